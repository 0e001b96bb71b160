package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// WriteYAMLByJSON writes v as YAML under its JSON field names (the names
// on the wire and in the files, connect_command and not
// connectcommand), by way of JSON; what names v in an error.
func WriteYAMLByJSON(w io.Writer, v any, what string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	out, err := yaml.Marshal(generic)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	_, err = w.Write(out)
	return err
}
