package config

import (
	"strings"
	"testing"
)

func TestStorageKeys(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       Storage
		wantErr    string
	}{
		{name: "defaults", yaml: "", want: Storage{}},
		{name: "file in a dir", yaml: "data_dir: /var/lib/pomerium\ndatabroker_storage_type: file\n",
			want: Storage{DataDir: "/var/lib/pomerium", Type: "file"}},
		{name: "memory", yaml: "databroker_storage_type: memory\n", want: Storage{Type: "memory"}},
		{name: "postgres URL", yaml: "databroker_storage_type: postgres\ndatabroker_storage_connection_string: postgresql://u:p@db:5432/pomerium\n",
			want: Storage{Type: "postgres", ConnectionString: "postgresql://u:p@db:5432/pomerium"}},
		{name: "postgres DSN", yaml: "databroker_storage_type: postgres\ndatabroker_storage_connection_string: host=db user=u dbname=x\n",
			want: Storage{Type: "postgres", ConnectionString: "host=db user=u dbname=x"}},
		{name: "from the environment", yaml: "databroker_storage_type: file\n",
			env:  map[string]string{"DATABROKER_STORAGE_TYPE": "postgres", "DATABROKER_STORAGE_CONNECTION_STRING": "postgres://db/x", "DATA_DIR": "/d"},
			want: Storage{Type: "postgres", ConnectionString: "postgres://db/x", DataDir: "/d"}},
		{name: "unknown type", yaml: "databroker_storage_type: redis\n", wantErr: `databroker_storage_type: "redis" is not memory, file or postgres`},
		{name: "postgres without URL", yaml: "databroker_storage_type: postgres\n", wantErr: "databroker_storage_connection_string: required"},
		{name: "URL without postgres", yaml: "databroker_storage_connection_string: postgresql://db/x\n", wantErr: "only used with databroker_storage_type postgres"},
		{name: "bad scheme, password kept quiet", yaml: "databroker_storage_type: postgres\ndatabroker_storage_connection_string: mysql://u:SECRETPW@db/x\n",
			wantErr: "want a postgresql:// URL"},
		{name: "tilde", yaml: "data_dir: ~/state\n", wantErr: "~ is not expanded"},
		{name: "list for a string", yaml: "data_dir: [a]\n", wantErr: "data_dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var lookup LookupEnv
			if tc.env != nil {
				lookup = func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			}
			cfg, err := ParseEnv([]byte(tc.yaml), lookup)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v; want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "SECRETPW") {
					t.Fatalf("the error echoes the connection string's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Storage != tc.want {
				t.Fatalf("got %+v; want %+v", cfg.Storage, tc.want)
			}
		})
	}
}
