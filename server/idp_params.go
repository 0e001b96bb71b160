package server

import (
	"maps"
	"slices"

	"golang.org/x/oauth2"
)

// authParams adds idp_request_params to the flow's own options; the
// flow's parameters are set last, so a configured state, nonce or PKCE
// value can never replace them (config refuses them anyway).
func (rp *relyingParty) authParams(own ...oauth2.AuthCodeOption) []oauth2.AuthCodeOption {
	var out []oauth2.AuthCodeOption
	for _, k := range slices.Sorted(maps.Keys(rp.cfg.RequestParams)) {
		out = append(out, oauth2.SetAuthURLParam(k, rp.cfg.RequestParams[k]))
	}
	return append(out, own...)
}
