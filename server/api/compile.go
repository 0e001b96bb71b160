package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/porthole-dev/porthole/server/config"
	"github.com/porthole-dev/porthole/server/store"
)

func loadDeps(ctx context.Context, r store.Reader) (routeDeps, error) {
	d := routeDeps{policies: map[string]*store.Policy{}, keyPairs: map[string]*store.KeyPair{}}
	ps, err := store.Policies.List(ctx, r, store.Query{})
	if err != nil {
		return d, err
	}
	for _, p := range ps {
		d.policies[p.ID] = p
	}
	kps, err := store.KeyPairs.List(ctx, r, store.Query{})
	if err != nil {
		return d, err
	}
	for _, kp := range kps {
		d.keyPairs[kp.ID] = kp
	}
	return d, nil
}

// CompileRoutes returns the routes made through the API, ready to serve.
// A route that no longer compiles (which the API's checks prevent) is
// left out and reported in the joined error, so that one bad record
// cannot take every route down.
func CompileRoutes(ctx context.Context, r store.Reader) ([]config.Route, error) {
	deps, err := loadDeps(ctx, r)
	if err != nil {
		return nil, err
	}
	recs, err := store.Routes.List(ctx, r, store.Query{})
	if err != nil {
		return nil, err
	}
	var out []config.Route
	var errs []error
	for _, rec := range recs {
		spec := recordToSpec(rec)
		rt, err := compileRoute(&spec, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("API route %s (%s): %w", rec.ID, rec.Name, err))
			continue
		}
		// The portal id follows the route, not its upstreams, so a client's
		// saved route survives edits made here.
		rt.IDKey = "api-route:" + rec.ID
		out = append(out, rt)
	}
	return out, errors.Join(errs...)
}

// checkRoutes compiles every API route as the transaction leaves them
// and checks that no two routes (YAML ones included) claim the same
// from. changed is the route the caller wrote ("" for a policy or key
// pair change): its errors name its fields; another route's errors say
// the change would break that route.
func (a *API) checkRoutes(c *changeTx, changed string) ([]*store.Route, error) {
	deps, err := loadDeps(c.ctx, c.tx)
	if err != nil {
		return nil, err
	}
	recs, err := store.Routes.List(c.ctx, c.tx, store.Query{})
	if err != nil {
		return nil, err
	}
	all := a.configRoutes()
	owner := make([]string, len(all)) // route id per entry of all
	for i := range all {
		owner[i] = configRouteID(&all[i])
	}
	for _, rec := range recs {
		spec := recordToSpec(rec)
		rt, err := compileRoute(&spec, deps)
		if err != nil {
			if rec.ID == changed {
				return nil, err
			}
			return nil, errorf(http.StatusBadRequest, "this change would break route %s (%s): %s", rec.ID, rec.Name, err)
		}
		all = append(all, rt)
		owner = append(owner, rec.ID)
	}
	if config.CheckRoutes(all) == nil {
		return recs, nil
	}
	// Name the clash: the changed route against another, or any pair.
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if config.CheckRoutes([]config.Route{all[i], all[j]}) == nil {
				continue
			}
			if changed != "" && owner[j] != changed && owner[i] != changed {
				continue
			}
			mine, other, otherID := all[j], all[i], owner[i]
			if owner[i] == changed {
				mine, other, otherID = all[i], all[j], owner[j]
			}
			return nil, errorf(http.StatusConflict, "from: %s clashes with route %s (from %s): the same from, prefix and path, or the same tcp/udp host:port",
				mine.From, otherID, other.From)
		}
	}
	return nil, errorf(http.StatusConflict, "from: two routes claim the same from: %s", config.CheckRoutes(all))
}
