package api

import (
	"context"
	"net/http"
)

// Organization is the reference's organization; a server has one.
type Organization struct {
	CreatedAt        string `json:"createdAt"`
	ID               string `json:"id"`
	JoinedAt         string `json:"joinedAt"`
	Name             string `json:"name"`
	OrganizationType string `json:"organizationType"`
	OwnerUserID      string `json:"ownerUserId"`
	Role             string `json:"role"`
	UpdatedAt        string `json:"updatedAt"`
}

func (a *API) organization(ctx context.Context) (Organization, error) {
	ns, err := a.namespace(ctx)
	if err != nil {
		return Organization{}, err
	}
	return Organization{CreatedAt: formatTime(ns.CreatedAt), ID: OrganizationID, JoinedAt: formatTime(ns.CreatedAt),
		Name: "default", OrganizationType: "professional", OwnerUserID: caller(ctx).UserID, Role: "admin",
		UpdatedAt: formatTime(ns.CreatedAt)}, nil
}

func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	org, err := a.organization(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []Organization{org})
	return nil
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request) error {
	org, err := a.organization(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}
