package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/porthole-dev/porthole/server/store"
)

// crud runs create, read, list, update and delete for one record type.
// mk builds the i-th record; change alters one.
// table is what crud needs of a store.Table.
type table[T any] interface {
	Kind() store.Kind
	Get(ctx context.Context, r store.Reader, id string) (*T, error)
	List(ctx context.Context, r store.Reader, q store.Query) ([]*T, error)
	Put(ctx context.Context, w store.Writer, rec *T) error
	Create(ctx context.Context, w store.Writer, rec *T) error
	Delete(ctx context.Context, w store.Writer, id string) error
}

func crud[T any, P interface {
	*T
	Metadata() *store.Meta
}](t *testing.T, st store.Store, tbl table[T], mk func(i int) *T, change func(*T)) {
	ctx := ctxT(t)
	t.Run(string(tbl.Kind()), func(t *testing.T) {
		var recs []*T
		for i := range 3 {
			r := mk(i)
			must(t, "create", tbl.Create(ctx, st, r))
			m := P(r).Metadata()
			if m.ID == "" || m.Version == 0 || m.CreatedAt.IsZero() || !m.UpdatedAt.Equal(m.CreatedAt) {
				t.Fatalf("after create: meta %+v; want an ID, a version and CreatedAt == UpdatedAt", *m)
			}
			recs = append(recs, r)
		}
		for _, r := range recs {
			got, err := tbl.Get(ctx, st, P(r).Metadata().ID)
			must(t, "get", err)
			same(t, "get after create", got, r)
		}
		all, err := tbl.List(ctx, st, store.Query{})
		must(t, "list", err)
		if len(all) != len(recs) {
			t.Fatalf("list: got %d records; want %d", len(all), len(recs))
		}
		for i := range all {
			same(t, fmt.Sprintf("list[%d]", i), all[i], recs[i])
		}

		r := recs[1]
		before := *P(r).Metadata()
		change(r)
		must(t, "update", tbl.Put(ctx, st, r))
		after := *P(r).Metadata()
		if after.Version <= before.Version || !after.CreatedAt.Equal(before.CreatedAt) || after.UpdatedAt.Before(before.UpdatedAt) {
			t.Fatalf("update: meta went from %+v to %+v; want a higher version, same CreatedAt", before, after)
		}
		got, err := tbl.Get(ctx, st, after.ID)
		must(t, "get after update", err)
		same(t, "get after update", got, r)

		must(t, "delete", tbl.Delete(ctx, st, after.ID))
		_, err = tbl.Get(ctx, st, after.ID)
		wantErr(t, "get after delete", err, store.ErrNotFound)
		wantErr(t, "second delete", tbl.Delete(ctx, st, after.ID), store.ErrNotFound)
		all, err = tbl.List(ctx, st, store.Query{})
		must(t, "list after delete", err)
		if len(all) != 2 {
			t.Fatalf("list after delete: got %d records; want 2", len(all))
		}
	})
}

// same compares two records, times by instant (the store keeps
// nanoseconds in UTC).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := normalize(reflect.ValueOf(got)), normalize(reflect.ValueOf(want))
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// normalize returns a copy with every time.Time in UTC and nil maps and
// slices made empty, so JSON round trips compare equal.
func normalize(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	normField(c)
	return c.Interface()
}

func normField(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if tm, ok := v.Interface().(time.Time); ok {
			if !tm.IsZero() {
				v.Set(reflect.ValueOf(tm.UTC().Round(0)))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normField(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

var (
	t0  = time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	loc = time.FixedZone("X", 3600)
)

func testRecords(t *testing.T, st store.Store) {
	crud(t, st, store.Sessions, func(i int) *store.Session {
		return &store.Session{UserID: fmt.Sprintf("user-%d", i), Email: "a@example.com", Name: "A",
			Groups: []string{"admins", "dev"}, Claims: map[string]any{"email_verified": true, "n": 2.5, "aud": []any{"x", "y"}},
			IDToken: "id.token", AccessToken: "access", RefreshToken: "refresh-" + fmt.Sprint(i),
			TokenExpiry: t0, IssuedAt: t0.In(loc), ExpiresAt: t0.Add(time.Hour)}
	}, func(s *store.Session) { s.AccessToken, s.RefreshedAt = "access2", t0.Add(time.Minute) })
	crud(t, st, store.Revocations, func(i int) *store.Revocation {
		return &store.Revocation{Meta: store.Meta{ID: fmt.Sprintf("sess-%d", i)}, UserID: "u", Reason: "sign_out", ExpiresAt: t0}
	}, func(r *store.Revocation) { r.Reason = "admin" })
	crud(t, st, store.APIUsers, func(i int) *store.APIUser {
		return &store.APIUser{Name: fmt.Sprintf("bot%d", i), Role: "admin", SecretHash: store.HashSecret("s"), RefreshToken: "rt"}
	}, func(u *store.APIUser) { u.Disabled = true })
	crud(t, st, store.ServiceAccounts, func(i int) *store.ServiceAccount {
		return &store.ServiceAccount{NamespaceID: "ns1", UserID: fmt.Sprintf("sa%d@ns1.pomerium", i), SecretHash: store.HashSecret("x"), ExpiresAt: t0}
	}, func(a *store.ServiceAccount) { a.Description = "changed" })
	crud(t, st, store.Routes, func(i int) *store.Route {
		return &store.Route{NamespaceID: "ns1", Name: fmt.Sprintf("r%d", i), From: fmt.Sprintf("https://r%d.example.com", i),
			To: []string{"http://a:80", "http://b:80"}, SetRequestHeaders: map[string]string{"X-A": "1"},
			PassIdentityHeaders: true, Timeout: "30s", IdentityProviderClientSecret: "idp-secret", PolicyIDs: []string{"p1"}}
	}, func(r *store.Route) { r.To = []string{"http://c:80"}; r.PolicyIDs = nil })
	crud(t, st, store.Policies, func(i int) *store.Policy {
		return &store.Policy{NamespaceID: "ns1", Name: fmt.Sprintf("p%d", i), PPL: `{"allow":{"and":[{"email":{"is":"a@b.c"}}]}}`, Enforced: i == 0}
	}, func(p *store.Policy) { p.Explanation = "why" })
	crud(t, st, store.Namespaces, func(i int) *store.Namespace {
		return &store.Namespace{Name: fmt.Sprintf("ns%d", i)}
	}, func(n *store.Namespace) { n.ParentID = "root" })
	crud(t, st, store.KeyPairs, func(i int) *store.KeyPair {
		return &store.KeyPair{Name: fmt.Sprintf("kp%d", i), Certificate: "-----BEGIN CERTIFICATE-----", Key: "-----BEGIN PRIVATE KEY-----"}
	}, func(k *store.KeyPair) { k.Key = "" })
	crud(t, st, store.SettingsTable, func(i int) *store.Settings {
		return &store.Settings{NamespaceID: fmt.Sprintf("ns%d", i), CookieSecret: "cs", JWTClaimsHeaders: map[string]string{"X-Email": "email"}}
	}, func(s *store.Settings) { s.LogLevel = "debug" })
	crud(t, st, store.Activities, func(i int) *store.Activity {
		return &store.Activity{ActivityType: "create", EntityType: "route", EntityID: fmt.Sprintf("r%d", i), UserID: "admin"}
	}, func(a *store.Activity) { a.Summary = "edited" })
	crud(t, st, store.DeviceCodes, func(i int) *store.DeviceCode {
		return &store.DeviceCode{UserCode: fmt.Sprintf("ABCD%04d", i), ExpiresAt: t0}
	}, func(d *store.DeviceCode) { d.SessionID, d.LastPoll = "s1", t0 })
	crud(t, st, store.Replicas, func(i int) *store.Replica {
		return &store.Replica{Hostname: fmt.Sprintf("host%d", i), Address: "127.0.0.1:8443", StartedAt: t0, LastSeen: t0, ExpiresAt: t0}
	}, func(r *store.Replica) { r.LastSeen = t0.Add(time.Second) })
}

func testCreateConflict(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	r := &store.Route{Name: "a", From: "https://a.example.com"}
	must(t, "create", store.Routes.Create(ctx, st, r))
	dup := &store.Route{Meta: store.Meta{ID: r.ID}, Name: "b"}
	wantErr(t, "create with a taken ID", store.Routes.Create(ctx, st, dup), store.ErrAlreadyExists)

	stale := *r
	r.Name = "a2"
	must(t, "put with the current version", store.Routes.Put(ctx, st, r))
	stale.Name = "lost update"
	wantErr(t, "put with a stale version", store.Routes.Put(ctx, st, &stale), store.ErrConflict)
	got, err := store.Routes.Get(ctx, st, r.ID)
	must(t, "get", err)
	if got.Name != "a2" {
		t.Fatalf("after the refused stale put: name %q; want a2", got.Name)
	}
	wantErr(t, "versioned put of a missing record",
		store.Routes.Put(ctx, st, &store.Route{Meta: store.Meta{ID: "nope", Version: 3}}), store.ErrConflict)
	// A put without a version replaces whatever is stored.
	must(t, "unversioned put", store.Routes.Put(ctx, st, &store.Route{Meta: store.Meta{ID: r.ID}, Name: "a3"}))
}

func testQueries(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	for i := range 6 {
		a := &store.Activity{ActivityType: "update", EntityType: "route", EntityID: fmt.Sprintf("e%d", i%2),
			NamespaceID: fmt.Sprintf("ns%d", i%3), UserID: fmt.Sprintf("u%d", i%2), Summary: fmt.Sprint(i)}
		must(t, "put", store.Activities.Put(ctx, st, a))
	}
	summaries := func(as []*store.Activity) (s string) {
		for _, a := range as {
			s += a.Summary
		}
		return s
	}
	tests := []struct {
		q    store.Query
		want string
	}{
		{store.Query{}, "012345"},
		{store.Query{NewestFirst: true}, "543210"},
		{store.Query{NamespaceID: "ns1"}, "14"},
		{store.Query{UserID: "u0"}, "024"},
		{store.Query{EntityID: "e1", NewestFirst: true}, "531"},
		{store.Query{UserID: "u1", NamespaceID: "ns0"}, "3"},
		{store.Query{Limit: 2}, "01"},
		{store.Query{Offset: 4}, "45"},
		{store.Query{Offset: 1, Limit: 3, NewestFirst: true}, "432"},
		{store.Query{Offset: 9}, ""},
		{store.Query{NamespaceID: "none"}, ""},
	}
	for _, tc := range tests {
		got, err := store.Activities.List(ctx, st, tc.q)
		must(t, "list", err)
		if s := summaries(got); s != tc.want {
			t.Errorf("list %+v: got %q; want %q", tc.q, s, tc.want)
		}
	}
}

func testBounds(t *testing.T, st store.Store) {
	ctx := ctxT(t)
	long := make([]byte, store.MaxIDLength+1)
	for i := range long {
		long[i] = 'a'
	}
	if err := store.Routes.Put(ctx, st, &store.Route{Meta: store.Meta{ID: string(long)}}); err == nil {
		t.Fatal("put with a too long ID: no error")
	}
	big := make([]byte, store.MaxRecordSize)
	if err := store.Policies.Put(ctx, st, &store.Policy{PPL: string(big)}); err == nil {
		t.Fatal("put of a too big record: no error")
	}
	// Hostile IDs are just data.
	for _, id := range []string{"a\x00b", "a\nb", "\xff"} {
		if err := store.Namespaces.Put(ctx, st, &store.Namespace{Meta: store.Meta{ID: id}}); err == nil {
			t.Fatalf("put with id %q: no error", id)
		}
	}
	if err := store.Sessions.Put(ctx, st, &store.Session{UserID: "a\x00"}); err == nil {
		t.Fatal("put with a NUL in the user ID: no error")
	}
	for _, id := range []string{"'; DROP TABLE porthole_records; --", "日本", "%", "_", `"\`} {
		must(t, "put "+id, store.Namespaces.Put(ctx, st, &store.Namespace{Meta: store.Meta{ID: id}, Name: id}))
		got, err := store.Namespaces.Get(ctx, st, id)
		must(t, "get "+id, err)
		if got.Name != id {
			t.Fatalf("get %q: name %q", id, got.Name)
		}
	}
	_, err := store.Namespaces.Get(ctx, st, "a%")
	wantErr(t, "get a%", err, store.ErrNotFound)
}
