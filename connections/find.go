package connections

import (
	"fmt"
	"slices"
	"strings"
)

// AmbiguousError says a name matched several connections.
type AmbiguousError struct {
	Name string
	IDs  []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%d connections are named %q: use an id (%s)", len(e.IDs), e.Name, strings.Join(e.IDs, ", "))
}

// Find returns the connection whose id is ref, else the one named ref.
// Several with that name is an *AmbiguousError; none wraps ErrNotFound.
func Find(list []Connection, ref string) (Connection, error) {
	for _, c := range list {
		if c.ID == ref {
			return c, nil
		}
	}
	var found []Connection
	for _, c := range list {
		if c.Name == ref {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return Connection{}, fmt.Errorf("%q is neither the id nor the name of a saved connection: %w", ref, ErrNotFound)
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, c := range found {
		ids[i] = c.ID
	}
	return Connection{}, &AmbiguousError{Name: ref, IDs: ids}
}

// AllTags returns every tag used in list, sorted.
func AllTags(list []Connection) []string {
	var tags []string
	for _, c := range list {
		tags = append(tags, c.Tags...)
	}
	return NormalizeTags(tags)
}

// WithTag returns the connections tagged tag ("" selects the untagged).
func WithTag(list []Connection, tag string) []Connection {
	var out []Connection
	for _, c := range list {
		if (tag == "" && len(c.Tags) == 0) || (tag != "" && slices.Contains(c.Tags, tag)) {
			out = append(out, c)
		}
	}
	return out
}
