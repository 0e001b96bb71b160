package store

import "time"

// KindDeviceCode is a pending device-code sign-in (RFC 8628).
const KindDeviceCode Kind = "device_code"

// DeviceCode is a device-code sign-in waiting for its user: its ID is a
// hash of the device_code the CLI polls with (the code itself is never
// stored), UserCode what the user types (indexed as the entity).
type DeviceCode struct {
	Meta
	UserCode  string    `json:"userCode"`
	SessionID string    `json:"sessionId,omitempty"` // set once confirmed
	Denied    bool      `json:"denied,omitempty"`
	LastPoll  time.Time `json:"lastPoll,omitzero"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// DeviceCodes is the device-code table.
var DeviceCodes Table[DeviceCode, *DeviceCode]

func init() { expiringKinds = append(expiringKinds, KindDeviceCode) }

func (*DeviceCode) kind() Kind { return KindDeviceCode }
func (d *DeviceCode) index() row {
	return row{entity: d.UserCode, expires: unixNano(d.ExpiresAt)}
}
func (*DeviceCode) secrets() []*string { return nil }
