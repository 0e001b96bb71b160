package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/porthole-dev/porthole/server/store"
)

// changeTx is one change: a store transaction whose activity entries
// share a changeset id, committed together with the records or not at
// all.
type changeTx struct {
	ctx       context.Context
	tx        store.Tx
	by        string
	changeset string
}

// log records that the caller did activityType to the entity.
func (c *changeTx) log(activityType, entityType, id, name string) error {
	return store.Activities.Create(c.ctx, c.tx, &store.Activity{
		Meta: store.Meta{ID: store.NewID()}, ActivityType: activityType, EntityType: entityType,
		EntityID: id, EntityName: name, NamespaceID: NamespaceID, UserID: c.by, ChangesetID: c.changeset,
	})
}

// change runs fn as one transaction made by the user by.
func change(ctx context.Context, st store.Store, by string, fn func(c *changeTx) error) error {
	cs := store.NewID()
	return st.Update(ctx, func(tx store.Tx) error {
		return fn(&changeTx{ctx: ctx, tx: tx, by: by, changeset: cs})
	})
}

// change runs fn as one transaction by the caller and, once committed,
// lets the server apply it (OnChange) before the client hears back, so
// that a route created here is served here when the 201 arrives.
func (a *API) change(ctx context.Context, fn func(c *changeTx) error) error {
	if err := change(ctx, a.st, caller(ctx).UserID, fn); err != nil {
		return err
	}
	if a.opts.OnChange != nil {
		a.opts.OnChange(ctx)
	}
	return nil
}

// ActivityLog is one entry of the reference's activity log.
type ActivityLog struct {
	ID           string `json:"id"`
	CreatedAt    string `json:"createdAt"`
	ActivityType string `json:"activityType"`
	EntityType   string `json:"entityType"`
	EntityID     string `json:"entityId"`
	EntityName   string `json:"entityName,omitempty"`
	NamespaceID  string `json:"namespaceId,omitempty"`
	UserID       string `json:"userId,omitempty"`
	ChangesetID  string `json:"changesetId,omitempty"`
}

var (
	activityTypes = []string{"create", "delete", "update"}
	entityTypes   = []string{"changeset", "custom_domain", "domain", "key_pair", "namespace", "organization", "policy", "route", "settings", "service_account"}
)

const maxListLimit = 1000

// listParams reads offset and limit.
func listParams(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	limit = maxListLimit
	for _, p := range []struct {
		name string
		dst  *int
	}{{"offset", &offset}, {"limit", &limit}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "%s: want a whole number 0 or more, got %q", p.name, v)
		}
		*p.dst = min(n, maxListLimit)
	}
	return offset, limit, nil
}

func (a *API) listActivityLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	activityType, entityType := q.Get("activityType"), q.Get("entityType")
	if activityType != "" && !slices.Contains(activityTypes, activityType) {
		return errorf(http.StatusBadRequest, "activityType: want one of %v, got %q", activityTypes, activityType)
	}
	if entityType != "" && !slices.Contains(entityTypes, entityType) {
		return errorf(http.StatusBadRequest, "entityType: want one of %v, got %q", entityTypes, entityType)
	}
	offset, limit, err := listParams(r)
	if err != nil {
		return err
	}
	if !namespaceFilter(r) {
		writeJSON(w, http.StatusOK, []ActivityLog{})
		return nil
	}
	sq := store.Query{EntityID: q.Get("entityId"), UserID: q.Get("userId"), NewestFirst: true}
	if activityType == "" && entityType == "" && q.Get("changesetId") == "" {
		// The store filters everything asked: let it page too, so a month
		// of activity is never read to answer limit=10.
		sq.Offset, sq.Limit, offset = offset, limit, 0
	}
	entries, err := store.Activities.List(r.Context(), a.st, sq)
	if err != nil {
		return err
	}
	out := []ActivityLog{}
	for _, e := range entries {
		if activityType != "" && e.ActivityType != activityType || entityType != "" && e.EntityType != entityType ||
			q.Get("changesetId") != "" && e.ChangesetID != q.Get("changesetId") {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		if len(out) >= limit {
			break
		}
		out = append(out, ActivityLog{ID: e.ID, CreatedAt: formatTime(e.CreatedAt), ActivityType: e.ActivityType,
			EntityType: e.EntityType, EntityID: e.EntityID, EntityName: e.EntityName, NamespaceID: e.NamespaceID,
			UserID: e.UserID, ChangesetID: e.ChangesetID})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
