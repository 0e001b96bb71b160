package connections

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodeStore parses the store file. Entries are not validated (a hand
// edit that breaks one connection must not hide the others), but every
// entry needs a unique id for edit and delete to be safe.
func decodeStore(b []byte) ([]Connection, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the file is empty")
	}
	var fd fileData
	if err := json.Unmarshal(b, &fd); err != nil {
		return nil, err
	}
	switch {
	case fd.Version == 0:
		return nil, errors.New(`no "version"`)
	case fd.Version > FileVersion:
		return nil, fmt.Errorf("version %d is newer than this program's %d", fd.Version, FileVersion)
	}
	list := fd.Connections
	if list == nil {
		list = []Connection{}
	}
	for i, c := range list {
		if c.ID == "" {
			return nil, fmt.Errorf("connection %d (%q) has no id", i+1, c.Name)
		}
	}
	if err := checkUniqueIDs(list); err != nil {
		return nil, err
	}
	return list, nil
}

func encodeStore(list []Connection) ([]byte, error) {
	if list == nil {
		list = []Connection{}
	}
	b, err := json.MarshalIndent(fileData{Version: FileVersion, Connections: list}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding connections: %w", err)
	}
	return append(b, '\n'), nil
}
