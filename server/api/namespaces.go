package api

import (
	"context"
	"net/http"

	"github.com/porthole-dev/porthole/server/store"
)

// Namespace is the reference's namespace; a server has one.
type Namespace struct {
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Name      string `json:"name"`
	ParentID  string `json:"parentId"`
	Type      string `json:"type"`
}

func (a *API) namespace(ctx context.Context) (*store.Namespace, error) {
	return store.Namespaces.Get(ctx, a.st, NamespaceID)
}

func (a *API) listNamespaces(w http.ResponseWriter, r *http.Request) error {
	ns, err := a.namespace(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []Namespace{{ID: ns.ID, CreatedAt: formatTime(ns.CreatedAt), UpdatedAt: formatTime(ns.UpdatedAt),
		Name: ns.Name, ParentID: "", Type: "cluster"}})
	return nil
}
