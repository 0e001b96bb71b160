package connections

import (
	"fmt"
	"strconv"
)

// DuplicateNameError refuses a connection named like another one: names
// are how people (and `connections connect NAME`) pick a connection, so
// two alike would make that ambiguous. Suggest is a free name to use.
type DuplicateNameError struct {
	Name    string
	OtherID string
	Suggest string
}

func (e *DuplicateNameError) Error() string {
	return fmt.Sprintf("a connection named %q already exists (id %s): choose another name, e.g. %q", e.Name, e.OtherID, e.Suggest)
}

// checkNewNames refuses a write that gives a connection (new, or renamed)
// the exact name of another one. Duplicates already in
// the file (a hand edit) do not block unrelated writes.
func checkNewNames(before, after []Connection) error {
	old := make(map[string]string, len(before))
	for _, c := range before {
		old[c.ID] = c.Name
	}
	taken := make(map[string][]Connection, len(after))
	for _, c := range after {
		taken[c.Name] = append(taken[c.Name], c)
	}
	for _, c := range after {
		if name, ok := old[c.ID]; ok && name == c.Name {
			continue
		}
		for _, o := range taken[c.Name] {
			if o.ID != c.ID {
				return &DuplicateNameError{Name: c.Name, OtherID: o.ID, Suggest: freeName(c.Name, taken)}
			}
		}
	}
	return nil
}

// freeName is name-2, name-3, ... the first not taken.
func freeName(name string, taken map[string][]Connection) string {
	for i := 2; ; i++ {
		n := name + "-" + strconv.Itoa(i)
		if len(taken[n]) == 0 {
			return n
		}
	}
}
