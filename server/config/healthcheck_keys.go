package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/porthole-dev/porthole/server/internal/yamlnode"
)

// Health check defaults where Envoy requires a value and Pomerium users
// often leave one out.
const (
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 5 * time.Second
)

func decodeHealthChecks(n *yaml.Node, dst *[]HealthCheck) error {
	return decodeList(n, dst, "health checks", decodeHealthCheck)
}

func decodeHealthCheck(n *yaml.Node) (HealthCheck, error) {
	var hc HealthCheck
	var unhealthy, healthy int64
	var httpNode, tcpNode *yaml.Node
	var ignored time.Duration
	keys := []string{"timeout", "interval", "unhealthy_threshold", "healthy_threshold", "http_health_check", "tcp_health_check",
		"grpc_health_check", "interval_jitter", "initial_jitter", "no_traffic_interval"}
	err := decodeMap(n, keys, map[string]fieldFn{
		"timeout":             duration(&hc.Timeout, nil),
		"interval":            duration(&hc.Interval, nil),
		"unhealthy_threshold": integer64(&unhealthy),
		"healthy_threshold":   integer64(&healthy),
		"http_health_check":   func(n *yaml.Node) error { httpNode = n; return nil },
		"tcp_health_check":    func(n *yaml.Node) error { tcpNode = n; return nil },
		"grpc_health_check": func(*yaml.Node) error {
			return errors.New("not supported by pomerium-server: grpc_health_check (use http_health_check or tcp_health_check)")
		},
		"interval_jitter":     duration(&ignored, nil),
		"initial_jitter":      duration(&ignored, nil),
		"no_traffic_interval": duration(&ignored, nil),
	})
	if err != nil {
		return hc, err
	}
	if hc.Timeout == 0 {
		hc.Timeout = DefaultHealthTimeout
	}
	if hc.Interval == 0 {
		hc.Interval = DefaultHealthInterval
	}
	if unhealthy < 0 || healthy < 0 || unhealthy > 1000 || healthy > 1000 {
		return hc, errors.New("unhealthy_threshold/healthy_threshold: want 1-1000")
	}
	hc.UnhealthyThreshold, hc.HealthyThreshold = int(max(unhealthy, 1)), int(max(healthy, 1))
	switch {
	case httpNode != nil && tcpNode != nil:
		return hc, errors.New("http_health_check and tcp_health_check: set one per health check")
	case httpNode != nil:
		var start, end int64
		var statuses *yaml.Node
		var ignoredStr string
		err := decodeMap(httpNode, []string{"path", "host", "expected_statuses", "codec_client_type"}, map[string]fieldFn{
			"path":              str(&hc.HTTPPath),
			"host":              str(&hc.HTTPHost),
			"expected_statuses": func(n *yaml.Node) error { statuses = n; return nil },
			"codec_client_type": str(&ignoredStr),
		})
		if err != nil {
			return hc, fmt.Errorf("http_health_check: %w", err)
		}
		if hc.HTTPPath == "" {
			hc.HTTPPath = "/"
		}
		if hc.HTTPPath[0] != '/' {
			return hc, fmt.Errorf("http_health_check: path: must start with /, got %q", oneLine(hc.HTTPPath))
		}
		if statuses != nil && !yamlnode.IsNull(statuses) {
			if statuses.Kind != yaml.SequenceNode {
				return hc, errors.New("http_health_check: expected_statuses: want a list of {start, end}")
			}
			for i, e := range statuses.Content {
				start, end = 0, 0
				err := decodeMap(yamlnode.Resolve(e), []string{"start", "end"}, map[string]fieldFn{"start": integer64(&start), "end": integer64(&end)})
				if err == nil && (start < 100 || end > 600 || end <= start) {
					err = fmt.Errorf("want 100 <= start < end <= 600 (end exclusive), got start %d end %d", start, end)
				}
				if err != nil {
					return hc, fmt.Errorf("http_health_check: expected_statuses[%d]: %w", i, err)
				}
				hc.ExpectedStatuses = append(hc.ExpectedStatuses, [2]int{int(start), int(end)})
			}
		}
	case tcpNode != nil:
		hc.TCP = true
		var send, recv *yaml.Node
		err := decodeMap(tcpNode, []string{"send", "receive"}, map[string]fieldFn{
			"send":    func(n *yaml.Node) error { send = n; return nil },
			"receive": func(n *yaml.Node) error { recv = n; return nil },
		})
		if err != nil {
			return hc, fmt.Errorf("tcp_health_check: %w", err)
		}
		if hc.TCPSend, err = payload(send); err != nil {
			return hc, fmt.Errorf("tcp_health_check: send: %w", err)
		}
		if recv != nil && recv.Kind == yaml.SequenceNode {
			for i, e := range recv.Content {
				b, err := payload(yamlnode.Resolve(e))
				if err != nil {
					return hc, fmt.Errorf("tcp_health_check: receive[%d]: %w", i, err)
				}
				hc.TCPReceive = append(hc.TCPReceive, b...)
			}
		} else if hc.TCPReceive, err = payload(recv); err != nil {
			return hc, fmt.Errorf("tcp_health_check: receive: %w", err)
		}
	default:
		return hc, errors.New("needs http_health_check or tcp_health_check")
	}
	return hc, nil
}

// payload decodes Envoy's {text: HEX} or {binary: BASE64}... as Pomerium
// documents it: text is hex-encoded bytes.
func payload(n *yaml.Node) ([]byte, error) {
	if n == nil || yamlnode.IsNull(n) {
		return nil, nil
	}
	var text string
	if err := decodeMap(n, []string{"text"}, map[string]fieldFn{"text": str(&text)}); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("text: want hex-encoded bytes, got %q", oneLine(text))
	}
	return b, nil
}
