package api

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

// Cluster is the reference's cluster: this server and its replicas.
type Cluster struct {
	ID                      string         `json:"id"`
	CreatedAt               string         `json:"createdAt"`
	UpdatedAt               string         `json:"updatedAt"`
	Name                    string         `json:"name"`
	ManualOverrideIPAddress string         `json:"manualOverrideIpAddress"`
	FQDN                    string         `json:"fqdn"`
	AutoDetectIPAddress     string         `json:"autoDetectIpAddress"`
	NamespaceID             string         `json:"namespaceId"`
	HasFailingHealthChecks  bool           `json:"hasFailingHealthChecks"`
	MinReplicaVersion       string         `json:"minReplicaVersion"`
	Domain                  string         `json:"domain"`
	OnboardingStatus        string         `json:"onboardingStatus"`
	ImportStatus            map[string]any `json:"importStatus"`
}

func (a *API) cluster(ctx context.Context) (Cluster, error) {
	ns, err := a.namespace(ctx)
	if err != nil {
		return Cluster{}, err
	}
	host, _, err := net.SplitHostPort(a.opts.Address)
	if err != nil {
		host = a.opts.Address
	}
	c := Cluster{ID: ClusterID, CreatedAt: formatTime(ns.CreatedAt), UpdatedAt: formatTime(ns.UpdatedAt), Name: ns.Name,
		FQDN: a.opts.Address, Domain: host, NamespaceID: NamespaceID, OnboardingStatus: "complete", ImportStatus: map[string]any{}}
	if ip := net.ParseIP(host); ip != nil {
		c.AutoDetectIPAddress = ip.String()
	}
	reps, err := a.replicas(ctx)
	if err != nil {
		return Cluster{}, err
	}
	for _, rep := range reps {
		if !rep.Healthy {
			c.HasFailingHealthChecks = true
		}
		if c.MinReplicaVersion == "" || rep.Version < c.MinReplicaVersion {
			c.MinReplicaVersion = rep.Version
		}
	}
	return c, nil
}

// replicaFresh is how recent a replica's heartbeat must be for it to
// count as healthy (the server beats every ReplicaHeartbeat).
const replicaFresh = 3 * ReplicaHeartbeat

// ReplicaHeartbeat is how often a server writes its replica record.
const ReplicaHeartbeat = 10 * time.Second

// replicas are the server processes that wrote a heartbeat to the store.
func (a *API) replicas(ctx context.Context) ([]Replica, error) {
	recs, err := store.Replicas.List(ctx, a.st, store.Query{})
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := []Replica{}
	for _, r := range recs {
		out = append(out, Replica{ID: r.ID, Hostname: r.Hostname, Address: r.Address, Version: r.ServerVersion,
			StartedAt: r.StartedAt, LastSeen: r.LastSeen, Healthy: now.Sub(r.LastSeen) < replicaFresh})
	}
	return out, nil
}

func (a *API) listClusters(w http.ResponseWriter, r *http.Request) error {
	c, err := a.cluster(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []Cluster{c})
	return nil
}

func (a *API) checkCluster(r *http.Request) error {
	if id := r.PathValue("clusterId"); id != ClusterID {
		return notFound("cluster", id)
	}
	return nil
}

func (a *API) getCluster(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	c, err := a.cluster(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

type updateClusterRequest struct {
	Name                    string `json:"name"`
	ManualOverrideIPAddress string `json:"manualOverrideIpAddress"`
}

// updateCluster renames the cluster (the namespace record keeps the name).
func (a *API) updateCluster(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := a.checkCluster(r); err != nil {
		return err
	}
	var req updateClusterRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	if req.ManualOverrideIPAddress != "" {
		return fieldError("manualOverrideIpAddress", "not supported by this server: clients reach it at its own address (%s)", a.opts.Address)
	}
	err := a.change(ctx, func(c *changeTx) error {
		ns, err := store.Namespaces.Get(ctx, c.tx, NamespaceID)
		if err != nil {
			return err
		}
		ns.Name = req.Name
		if err := store.Namespaces.Put(ctx, c.tx, ns); err != nil {
			return err
		}
		return c.log("update", "namespace", ns.ID, ns.Name)
	})
	if err != nil {
		return err
	}
	cl, err := a.cluster(ctx)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cl)
	return nil
}

func errOneCluster() error {
	return errorf(http.StatusConflict, "a server is one cluster (%q); to grow it, start another replica on the same store", ClusterID)
}

func (a *API) createCluster(w http.ResponseWriter, r *http.Request) error { return errOneCluster() }

func (a *API) deleteCluster(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	return errOneCluster()
}

func (a *API) listReplicas(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	q := r.URL.Query()
	var start, end time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"startTime", &start}, {"endTime", &end}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errorf(http.StatusBadRequest, "%s: want an RFC 3339 time like 2024-01-17T20:07:47Z, got %q", p.name, v)
			}
			*p.dst = t
		}
	}
	reps, err := a.replicas(r.Context())
	if err != nil {
		return err
	}
	out := []Replica{}
	for _, rep := range reps {
		if !start.IsZero() && rep.LastSeen.Before(start) || !end.IsZero() && rep.StartedAt.After(end) {
			continue
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// HealthCheck is one replica's health.
type HealthCheck struct {
	ReplicaID string `json:"replicaId"`
	Name      string `json:"name"`
	Status    string `json:"status"` // "ok" or "failing"
	Message   string `json:"message,omitempty"`
	CheckedAt string `json:"checkedAt"`
}

func (a *API) clusterHealth(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	ctx := r.Context()
	reps, err := a.replicas(ctx)
	if err != nil {
		return err
	}
	out := []HealthCheck{}
	for _, rep := range reps {
		hc := HealthCheck{ReplicaID: rep.ID, Name: "replica", Status: "ok", CheckedAt: formatTime(rep.LastSeen)}
		if !rep.Healthy {
			hc.Status, hc.Message = "failing", "no heartbeat or no store connection"
		}
		out = append(out, hc)
	}
	storeCheck := HealthCheck{ReplicaID: "self", Name: "store", Status: "ok", CheckedAt: formatTime(a.now())}
	if err := a.st.Ping(ctx); err != nil {
		storeCheck.Status = "failing"
	}
	out = append(out, storeCheck)
	writeJSON(w, http.StatusOK, out)
	return nil
}
