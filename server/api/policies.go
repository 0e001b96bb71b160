package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/server/policy"
	"github.com/porthole-dev/porthole/server/store"
)

// PolicySpec is a policy as written (createPolicy, updatePolicy).
type PolicySpec struct {
	NamespaceID string          `json:"namespaceId"`
	Name        string          `json:"name"`
	Enforced    bool            `json:"enforced"`
	PPL         json.RawMessage `json:"ppl"`
	Description string          `json:"description"`
	Explanation string          `json:"explanation"`
	Remediation string          `json:"remediation"`
}

// Policy is a policy as returned.
type Policy struct {
	ID        string `json:"id"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	PolicySpec
	// Routes are the routes that name the policy; EnforcedRoutes the
	// routes it applies to because it is enforced (all of them).
	Routes         []RouteRef `json:"routes"`
	EnforcedRoutes []RouteRef `json:"enforcedRoutes"`
}

// RouteRef names a route a policy applies to.
type RouteRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// validate checks the body and returns the PPL compacted for storage. A
// PPL that does not parse never reaches the store, so a typo cannot
// turn into a route nobody can reach.
func (p *PolicySpec) validate() (string, error) {
	if err := checkNamespace("namespaceId", p.NamespaceID); err != nil {
		return "", err
	}
	p.NamespaceID = NamespaceID
	if err := checkName("name", p.Name); err != nil {
		return "", err
	}
	ppl := bytes.TrimSpace(p.PPL)
	if len(ppl) == 0 || string(ppl) == "null" || (ppl[0] != '{' && ppl[0] != '[') {
		return "", fieldError("ppl", `required: a PPL rule or list of rules, e.g. {"allow": {"and": [{"email": {"is": "user@example.com"}}]}}`)
	}
	if _, err := policy.Parse(ppl); err != nil {
		return "", fieldError("ppl", "%s", strings.TrimPrefix(err.Error(), "parsing policy: "))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, ppl); err != nil {
		return "", fieldError("ppl", "not valid JSON")
	}
	return buf.String(), nil
}

func policyJSON(p *store.Policy, routes []*store.Route) Policy {
	out := Policy{ID: p.ID, CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
		PolicySpec: PolicySpec{NamespaceID: p.NamespaceID, Name: p.Name, Enforced: p.Enforced, PPL: json.RawMessage(p.PPL),
			Description: p.Description, Explanation: p.Explanation, Remediation: p.Remediation},
		Routes: []RouteRef{}, EnforcedRoutes: []RouteRef{}}
	if out.NamespaceID == "" {
		out.NamespaceID = NamespaceID
	}
	for _, r := range routes {
		ref := RouteRef{ID: r.ID, Name: r.Name}
		if slices.Contains(r.PolicyIDs, p.ID) {
			out.Routes = append(out.Routes, ref)
		}
		if p.Enforced {
			out.EnforcedRoutes = append(out.EnforcedRoutes, ref)
		}
	}
	return out
}

func (a *API) listPolicies(w http.ResponseWriter, r *http.Request) error {
	out := []Policy{}
	if !namespaceFilter(r) {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	ctx := r.Context()
	ps, err := store.Policies.List(ctx, a.st, store.Query{})
	if err != nil {
		return err
	}
	routes, err := store.Routes.List(ctx, a.st, store.Query{})
	if err != nil {
		return err
	}
	for _, p := range ps {
		out = append(out, policyJSON(p, routes))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("policyId")
	p, err := store.Policies.Get(ctx, a.st, id)
	if err != nil {
		return notFoundOr(err, "policy", id)
	}
	routes, err := store.Routes.List(ctx, a.st, store.Query{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, policyJSON(p, routes))
	return nil
}

func (a *API) createPolicy(w http.ResponseWriter, r *http.Request) error {
	return a.putPolicy(w, r, "")
}

func (a *API) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	return a.putPolicy(w, r, r.PathValue("policyId"))
}

// putPolicy creates (id "") or replaces a policy, then checks that every
// route still compiles with it, all in one transaction.
func (a *API) putPolicy(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	var spec PolicySpec
	if err := decodeBody(r, &spec); err != nil {
		return err
	}
	ppl, err := spec.validate()
	if err != nil {
		return err
	}
	var out Policy
	err = a.change(ctx, func(c *changeTx) error {
		p := &store.Policy{Meta: store.Meta{ID: store.NewID()}}
		activity := "create"
		if id != "" {
			old, err := store.Policies.Get(ctx, c.tx, id)
			if err != nil {
				return notFoundOr(err, "policy", id)
			}
			p, activity = old, "update"
		}
		p.NamespaceID, p.Name, p.Enforced, p.PPL = spec.NamespaceID, spec.Name, spec.Enforced, ppl
		p.Description, p.Explanation, p.Remediation = spec.Description, spec.Explanation, spec.Remediation
		write := store.Policies.Put
		if activity == "create" {
			write = store.Policies.Create
		}
		if err := write(ctx, c.tx, p); err != nil {
			return err
		}
		routes, err := a.checkRoutes(c, "")
		if err != nil {
			return err
		}
		out = policyJSON(p, routes)
		return c.log(activity, "policy", p.ID, p.Name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, map[bool]int{true: http.StatusCreated, false: http.StatusOK}[id == ""], out)
	return nil
}

// deletePolicy refuses while routes name the policy: dropping a deny
// rule from under a route would widen who gets in.
func (a *API) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("policyId")
	err := a.change(ctx, func(c *changeTx) error {
		p, err := store.Policies.Get(ctx, c.tx, id)
		if err != nil {
			return notFoundOr(err, "policy", id)
		}
		routes, err := store.Routes.List(ctx, c.tx, store.Query{})
		if err != nil {
			return err
		}
		var users []string
		for _, rt := range routes {
			if slices.Contains(rt.PolicyIDs, id) {
				users = append(users, rt.ID)
			}
		}
		if len(users) > 0 {
			return errorf(http.StatusConflict, "policy %q is attached to routes %s; remove it from their policyIds first", id, strings.Join(users, ", "))
		}
		if err := store.Policies.Delete(ctx, c.tx, id); err != nil {
			return err
		}
		if _, err := a.checkRoutes(c, ""); err != nil {
			return err
		}
		return c.log("delete", "policy", id, p.Name)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
