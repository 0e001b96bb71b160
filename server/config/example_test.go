package config

import "testing"

// TestPomeriumAllInOneExample: the Pomerium-style example parses with
// every route (the end-to-end run is in package server).
func TestPomeriumAllInOneExample(t *testing.T) {
	cfg, err := Load("testdata/pomerium-all-in-one.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 12 {
		t.Fatalf("got %d routes; want 12", len(cfg.Routes))
	}
	byName := map[string]*Route{}
	for i := range cfg.Routes {
		byName[cfg.Routes[i].From] = &cfg.Routes[i]
	}
	if r := byName["https://api.corp.example.com"]; r == nil || r.Policy.Explanation == "" || !r.CORSAllowPreflight {
		t.Errorf("api route lost its settings: %+v", r)
	}
	if r := byName["https://wiki.corp.example.com"]; r == nil || r.LBPolicy != "LEAST_REQUEST" || len(r.HealthChecks) != 1 {
		t.Errorf("wiki route lost its load balancing: %+v", r)
	}
	if cfg.MetricsAddress != "127.0.0.1:9090" || len(cfg.Certificates) != 1 || cfg.IdpProvider != "oidc" {
		t.Errorf("top-level keys lost: metrics %q, certificates %d, idp_provider %q", cfg.MetricsAddress, len(cfg.Certificates), cfg.IdpProvider)
	}
}
