package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/porthole-dev/porthole/server/store"
)

// Settings are the reference's cluster settings. The server shows its
// effective values; the fields it can change live (settingsWritable) may
// be changed, any other change is refused naming the field.
type Settings struct {
	ID                                  string            `json:"id"`
	CreatedAt                           string            `json:"createdAt"`
	UpdatedAt                           string            `json:"updatedAt"`
	LogLevel                            string            `json:"logLevel"`
	ProxyLogLevel                       string            `json:"proxyLogLevel"`
	Address                             string            `json:"address"`
	DNSLookupFamily                     string            `json:"dnsLookupFamily"`
	HTTPRedirectAddr                    string            `json:"httpRedirectAddr"`
	TimeoutRead                         string            `json:"timeoutRead"`
	TimeoutWrite                        string            `json:"timeoutWrite"`
	TimeoutIdle                         string            `json:"timeoutIdle"`
	CookieName                          string            `json:"cookieName"`
	CookieSecret                        string            `json:"cookieSecret"`
	CookieDomain                        string            `json:"cookieDomain"`
	CookieHTTPOnly                      bool              `json:"cookieHttpOnly"`
	CookieExpire                        string            `json:"cookieExpire"`
	CookieSameSite                      string            `json:"cookieSameSite"`
	CertificateAuthorityKeyPairID       string            `json:"certificateAuthorityKeyPairId"`
	SetResponseHeaders                  map[string]string `json:"setResponseHeaders"`
	JWTClaimsHeaders                    map[string]string `json:"jwtClaimsHeaders"`
	DefaultUpstreamTimeout              string            `json:"defaultUpstreamTimeout"`
	MetricsAddress                      string            `json:"metricsAddress"`
	TracingProvider                     string            `json:"tracingProvider"`
	TracingSampleRate                   float64           `json:"tracingSampleRate"`
	TracingDatadogAddress               string            `json:"tracingDatadogAddress"`
	TracingJaegerCollectorEndpoint      string            `json:"tracingJaegerCollectorEndpoint"`
	TracingJaegerAgentEndpoint          string            `json:"tracingJaegerAgentEndpoint"`
	TracingZipkinEndpoint               string            `json:"tracingZipkinEndpoint"`
	DownstreamMTLSCAKeyPairID           string            `json:"downstreamMtlsCaKeyPairId"`
	GoogleCloudServerlessAuthServiceAcc string            `json:"googleCloudServerlessAuthenticationServiceAccount"`
	SkipXffAppend                       bool              `json:"skipXffAppend"`
	DatabrokerStorageConnection         string            `json:"databrokerStorageConnection"`
	AccessLogFields                     []string          `json:"accessLogFields"`
	AuthorizeLogFields                  []string          `json:"authorizeLogFields"`
	PassIdentityHeaders                 bool              `json:"passIdentityHeaders"`
	AutoApplyChangesets                 bool              `json:"autoApplyChangesets"`
	AuthenticateServiceURL              string            `json:"authenticateServiceUrl"`
	IdentityProvider                    string            `json:"identityProvider"`
	IdentityProviderClientID            string            `json:"identityProviderClientId"`
	IdentityProviderClientSecret        string            `json:"identityProviderClientSecret"`
	IdentityProviderRequestParams       map[string]string `json:"identityProviderRequestParams"`
	IdentityProviderScopes              []string          `json:"identityProviderScopes"`
	IdentityProviderURL                 string            `json:"identityProviderUrl"`
}

// settingsWritable are the settings the server applies live, on every
// replica (through the store's change feed).
var settingsWritable = []string{"logLevel"}

const settingsID = "global"

// LoadSettings returns the settings changed through the API (a zero
// record when none were).
func LoadSettings(ctx context.Context, r store.Reader) (*store.Settings, error) {
	s, err := store.SettingsTable.Get(ctx, r, settingsID)
	if isNotFound(err) {
		return &store.Settings{Meta: store.Meta{ID: settingsID}}, nil
	}
	return s, err
}

// effectiveSettings are the base (the config's) with the API's changes.
func (a *API) effectiveSettings(rec *store.Settings) Settings {
	s := a.opts.BaseSettings
	s.ID = ClusterID
	s.CreatedAt, s.UpdatedAt = formatTime(rec.CreatedAt), formatTime(rec.UpdatedAt)
	if rec.CreatedAt.IsZero() {
		s.CreatedAt, s.UpdatedAt = formatTime(a.started), formatTime(a.started)
	}
	if rec.LogLevel != "" {
		s.LogLevel = rec.LogLevel
	}
	s.CookieSecret, s.IdentityProviderClientSecret = "", ""
	s.AutoApplyChangesets = true
	if s.SetResponseHeaders == nil {
		s.SetResponseHeaders = map[string]string{}
	}
	if s.JWTClaimsHeaders == nil {
		s.JWTClaimsHeaders = map[string]string{}
	}
	if s.IdentityProviderRequestParams == nil {
		s.IdentityProviderRequestParams = map[string]string{}
	}
	for _, l := range []*[]string{&s.AccessLogFields, &s.AuthorizeLogFields, &s.IdentityProviderScopes} {
		if *l == nil {
			*l = []string{}
		}
	}
	return s
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	rec, err := LoadSettings(r.Context(), a.st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.effectiveSettings(rec))
	return nil
}

func (a *API) updateSettings(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return a.writeSettings(w, r, func(cur Settings) ([]byte, error) { return body, nil })
}

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
	From  string          `json:"from"`
}

// patchSettings applies a JSON Patch to the settings' top-level fields.
func (a *API) patchSettings(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkCluster(r); err != nil {
		return err
	}
	var ops []jsonPatchOp
	if err := decodeBody(r, &ops); err != nil {
		return err
	}
	return a.writeSettings(w, r, func(cur Settings) ([]byte, error) {
		doc, err := toMap(cur)
		if err != nil {
			return nil, err
		}
		for i, op := range ops {
			if err := applyPatchOp(doc, op); err != nil {
				return nil, errorf(http.StatusBadRequest, "[%d]: %s", i, err)
			}
		}
		return json.Marshal(doc)
	})
}

func topField(doc map[string]json.RawMessage, path string) (string, error) {
	name, ok := strings.CutPrefix(path, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("path: want a top-level field like /logLevel, got %q", path)
	}
	if _, known := doc[name]; !known {
		return "", fmt.Errorf("path: no setting %q", name)
	}
	return name, nil
}

func applyPatchOp(doc map[string]json.RawMessage, op jsonPatchOp) error {
	name, err := topField(doc, op.Path)
	if err != nil {
		return err
	}
	switch op.Op {
	case "add", "replace":
		if len(op.Value) == 0 {
			return fmt.Errorf("value: required for %s", op.Op)
		}
		doc[name] = op.Value
	case "remove":
		doc[name] = json.RawMessage("null")
	case "test":
		var got, want any
		json.Unmarshal(doc[name], &got)
		if err := json.Unmarshal(op.Value, &want); err != nil {
			return fmt.Errorf("value: not valid JSON")
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("test failed: %s is %s", op.Path, doc[name])
		}
	case "copy", "move":
		from, err := topField(doc, op.From)
		if err != nil {
			return fmt.Errorf("from: %w", err)
		}
		doc[name] = doc[from]
		if op.Op == "move" {
			doc[from] = json.RawMessage("null")
		}
	default:
		return fmt.Errorf("op: want add, remove, replace, copy, move or test, got %q", op.Op)
	}
	return nil
}

func toMap(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// writeSettings decodes the new settings (from the current ones), refuses
// changes to fields the server cannot apply, and stores the rest.
func (a *API) writeSettings(w http.ResponseWriter, r *http.Request, next func(cur Settings) ([]byte, error)) error {
	ctx := r.Context()
	var out Settings
	err := a.change(ctx, func(c *changeTx) error {
		rec, err := LoadSettings(ctx, c.tx)
		if err != nil {
			return err
		}
		cur := a.effectiveSettings(rec)
		body, err := next(cur)
		if err != nil {
			return err
		}
		var want Settings
		if err := decodeJSON(body, &want); err != nil {
			return err
		}
		curM, err := toMap(cur)
		if err != nil {
			return err
		}
		wantM, err := toMap(want)
		if err != nil {
			return err
		}
		for _, f := range slices.Sorted(maps.Keys(curM)) {
			if f == "id" || f == "createdAt" || f == "updatedAt" || slices.Contains(settingsWritable, f) {
				continue
			}
			if !sameOrUnset(curM[f], wantM[f]) {
				return fieldError(f, "not supported by this server: it cannot be changed through the API (only %s can)", strings.Join(settingsWritable, ", "))
			}
		}
		switch want.LogLevel {
		case "debug", "info", "warn", "error":
		default:
			return fieldError("logLevel", "want debug, info, warn or error, got %q", want.LogLevel)
		}
		rec.LogLevel = want.LogLevel
		if err := store.SettingsTable.Put(ctx, c.tx, rec); err != nil {
			return err
		}
		out = a.effectiveSettings(rec)
		return c.log("update", "settings", ClusterID, "settings")
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sameOrUnset reports whether want leaves cur as it is: equal, or
// empty (a client that leaves a field out means "as it is").
func sameOrUnset(cur, want json.RawMessage) bool {
	var x, y any
	json.Unmarshal(cur, &x)
	json.Unmarshal(want, &y)
	return isEmpty(y) || reflect.DeepEqual(x, y)
}

// isEmpty treats null, "", false, 0, [] and {} alike.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case float64:
		return t == 0
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

// readBody reads a bounded body for handlers that decode it later.
func readBody(r *http.Request) ([]byte, error) {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}
