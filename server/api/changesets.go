package api

import (
	"net/http"
	"slices"

	"github.com/porthole-dev/porthole/server/store"
)

// Changeset is one applied change. Every change made through this API
// is applied at once (Zero's autoApplyChangesets), so each transaction is
// a changeset with status "applied"; applying it again is a no-op.
type Changeset struct {
	ID             string `json:"id"`
	CreatedAt      string `json:"createdAt"`
	UpdatedAt      string `json:"updatedAt"`
	FailureMessage string `json:"failureMessage"`
	NamespaceID    string `json:"namespaceId"`
	Status         string `json:"status"`
}

var changesetStatuses = []string{"pending", "applying", "applied", "failed", "current", "rejected"}

// changesets groups the activity log by changeset, newest first.
func (a *API) changesets(r *http.Request) ([]Changeset, error) {
	entries, err := store.Activities.List(r.Context(), a.st, store.Query{NewestFirst: true})
	if err != nil {
		return nil, err
	}
	var out []Changeset
	seen := map[string]bool{}
	for _, e := range entries {
		if e.ChangesetID == "" || seen[e.ChangesetID] {
			continue
		}
		seen[e.ChangesetID] = true
		out = append(out, Changeset{ID: e.ChangesetID, CreatedAt: formatTime(e.CreatedAt), UpdatedAt: formatTime(e.CreatedAt),
			NamespaceID: NamespaceID, Status: "applied"})
	}
	return out, nil
}

func (a *API) listChangesets(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if id := q.Get("clusterId"); id != "" && id != ClusterID {
		return errorf(http.StatusBadRequest, "clusterId: no cluster %q (this server is %q)", id, ClusterID)
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(changesetStatuses, status) {
		return errorf(http.StatusBadRequest, "status: want one of %v, got %q", changesetStatuses, status)
	}
	offset, limit, err := listParams(r)
	if err != nil {
		return err
	}
	all, err := a.changesets(r)
	if err != nil {
		return err
	}
	out := []Changeset{}
	for _, c := range all {
		if status != "" && c.Status != status {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		if len(out) >= limit {
			break
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) applyChangeset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("changesetId")
	all, err := a.changesets(r)
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.ID == id {
			writeJSON(w, http.StatusOK, c)
			return nil
		}
	}
	return notFound("changeset", id)
}
