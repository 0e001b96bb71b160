package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/porthole-dev/porthole/server/store"
)

// User is the reference's user object.
type User struct {
	ID              string `json:"id"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	Email           string `json:"email"`
	DisplayName     string `json:"displayName"`
	NeedsOnboarding bool   `json:"needsOnboarding"`
	PhotoURL        string `json:"photoUrl"`
	Type            string `json:"type"`
	// RefreshToken is the API user token, in the create and renew
	// answers only: it is stored as a hash and cannot be shown again.
	RefreshToken string `json:"refreshToken,omitempty"`
}

const (
	userTypeAPI         = "user_type_api_access"
	userTypeInteractive = "user_type_interactive"
)

func userJSON(u *store.APIUser) User {
	return User{ID: u.ID, CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt),
		Email: u.Email, DisplayName: u.Name, Type: userTypeAPI}
}

// apiUserToken is what the user is handed: the record id and the secret,
// so that the exchange finds the record without scanning.
func apiUserToken(id, secret string) string { return id + "." + secret }

// CreateAPIUser makes an API user and returns it with its token (shown
// once; only a hash is kept). by names who asked, for the activity log.
// pomerium-server api-user create and --dev's bootstrap call it too.
func CreateAPIUser(ctx context.Context, st store.Store, name, role, by string) (*store.APIUser, string, error) {
	if err := checkName("name", name); err != nil {
		return nil, "", err
	}
	switch role {
	case "":
		role = "admin"
	case "owner", "admin":
	case "auditor", "member":
		return nil, "", fieldError("role", "%q is not supported: every API user is an admin here (owner or admin)", role)
	default:
		return nil, "", fieldError("role", "want owner or admin, got %q", role)
	}
	secret := store.NewSecret()
	u := &store.APIUser{Meta: store.Meta{ID: store.NewID()}, NamespaceID: NamespaceID, Name: name, Role: role,
		SecretHash: store.HashSecret(secret)}
	u.Email = u.ID + "@api-users.invalid"
	err := change(ctx, st, by, func(c *changeTx) error {
		if err := store.APIUsers.Create(ctx, c.tx, u); err != nil {
			return err
		}
		return c.log("create", "service_account", u.ID, u.Name)
	})
	if err != nil {
		return nil, "", err
	}
	return u, apiUserToken(u.ID, secret), nil
}

type tokenRequest struct {
	RefreshToken string `json:"refreshToken"`
}

type tokenResponse struct {
	IDToken          string `json:"idToken"`
	ExpiresInSeconds string `json:"expiresInSeconds"`
}

// getIDToken exchanges an API user token for an ID token.
func (a *API) getIDToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return fieldError("refreshToken", "required: the API user token")
	}
	bad := errorf(http.StatusUnauthorized, "refreshToken: invalid, renewed or revoked API user token")
	id, secret, ok := strings.Cut(req.RefreshToken, ".")
	if !ok || id == "" || secret == "" || len(id) > store.MaxIDLength {
		return bad
	}
	u, err := store.APIUsers.Get(r.Context(), a.st, id)
	if isNotFound(err) {
		// Compare anyway so a miss takes as long as a wrong secret.
		subtle.ConstantTimeCompare([]byte(store.HashSecret(secret)), []byte(store.HashSecret("")))
		return bad
	}
	if err != nil {
		return err
	}
	if u.Disabled || !store.CheckSecret(u.SecretHash, secret) {
		return bad
	}
	tok, err := a.issueIDToken(u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{IDToken: tok, ExpiresInSeconds: strconv.Itoa(int(idTokenTTL.Seconds()))})
	return nil
}

type createAPIUserRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (a *API) createAPIUser(w http.ResponseWriter, r *http.Request) error {
	var req createAPIUserRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, tok, err := CreateAPIUser(r.Context(), a.st, req.Name, req.Role, caller(r.Context()).UserID)
	if err != nil {
		return err
	}
	out := userJSON(u)
	out.RefreshToken = tok
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	switch t := r.URL.Query().Get("userType"); t {
	case "", userTypeAPI:
	case userTypeInteractive:
		// Interactive users are the IdP's; the server keeps no directory.
		writeJSON(w, http.StatusOK, []User{})
		return nil
	default:
		return errorf(http.StatusBadRequest, "userType: want %s or %s, got %q", userTypeInteractive, userTypeAPI, t)
	}
	us, err := store.APIUsers.List(r.Context(), a.st, store.Query{})
	if err != nil {
		return err
	}
	out := []User{}
	for _, u := range us {
		out = append(out, userJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// renewAPIUser issues a new token; the old one and every ID token made
// from it stop working at once.
func (a *API) renewAPIUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("userId")
	secret := store.NewSecret()
	err := a.change(ctx, func(c *changeTx) error {
		u, err := store.APIUsers.Get(ctx, c.tx, id)
		if err != nil {
			return notFoundOr(err, "API user", id)
		}
		u.SecretHash = store.HashSecret(secret)
		if err := store.APIUsers.Put(ctx, c.tx, u); err != nil {
			return err
		}
		return c.log("update", "service_account", u.ID, u.Name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"refreshToken": apiUserToken(id, secret)})
	return nil
}

// removeUser revokes an API user: its token and ID tokens stop working.
func (a *API) removeUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("userId")
	err := a.change(ctx, func(c *changeTx) error {
		u, err := store.APIUsers.Get(ctx, c.tx, id)
		if err != nil {
			return notFoundOr(err, "API user", id)
		}
		if err := store.APIUsers.Delete(ctx, c.tx, id); err != nil {
			return err
		}
		return c.log("delete", "service_account", u.ID, u.Name)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
