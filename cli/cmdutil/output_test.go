package cmdutil

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteYAMLByJSON(t *testing.T) {
	type item struct {
		ConnectCommand string `json:"connect_command"`
		Hidden         string `json:"-"`
		Empty          string `json:"empty,omitempty"`
	}
	for _, tt := range []struct {
		name    string
		v       any
		want    string
		wantErr string
	}{
		{name: "JSON names, omitempty and - honoured", v: []item{{ConnectCommand: "pomerium-cli tcp db:5432", Hidden: "secret"}}, want: "- connect_command: pomerium-cli tcp db:5432\n"},
		{name: "empty list", v: []item{}, want: "[]\n"},
		{name: "unencodable value", v: map[string]any{"f": func() {}}, wantErr: "encoding things: json: unsupported type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := WriteYAMLByJSON(&out, tt.v, "things")
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.want {
				t.Fatalf("got %q, %v; want %q", out.String(), err, tt.want)
			}
		})
	}
}
