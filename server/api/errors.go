package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is a failure the caller can act on: an HTTP status and a message
// that names the field or id at fault. Handlers return it (wrapped or
// not); writeError turns every error into a status and {"message"} in
// one place.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// fieldError is a 400 naming the request body field at fault.
func fieldError(field, format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Message: field + ": " + fmt.Sprintf(format, args...)}
}

func notFound(kind, id string) error {
	return errorf(http.StatusNotFound, "%s %q not found", kind, id)
}

// notFoundOr is err from reading the kind record id, as the API answers
// it: a 404 naming the record when the store has none, else err itself.
func notFoundOr(err error, kind, id string) error {
	if isNotFound(err) {
		return notFound(kind, id)
	}
	return err
}

var errUnauthenticated = &Error{Status: http.StatusUnauthorized,
	Message: "missing, invalid or expired token: send Authorization: Bearer <ID token> (POST /api/v0/token exchanges an API user token for one)"}

// writeError is the one place errors become responses. Anything that is
// not an *Error is a server fault: logged, never shown (it may hold
// database details).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Message: "internal error (see the server log)"}
	}
	writeJSON(w, e.Status, map[string]string{"message": e.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// maxBody bounds request bodies: the largest legitimate one is a route
// or key pair with a certificate chain.
const maxBody = 1 << 20

// decodeBody decodes a JSON request body into dst strictly: unknown
// fields, wrong types, trailing data and oversize bodies are 400s that
// name the field.
func decodeBody(r *http.Request, dst any) error {
	if r.Body == nil {
		return errorf(http.StatusBadRequest, "request body: required (a JSON object)")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "request body: %s", err)
	}
	if len(body) > maxBody {
		return errorf(http.StatusRequestEntityTooLarge, "request body: larger than %d bytes", maxBody)
	}
	return decodeJSON(body, dst)
}

func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "request body: trailing data after the JSON value")
	}
	return nil
}

// jsonError names the field of a decoding error.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errorf(http.StatusBadRequest, "request body: want a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fieldError(field, "want %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "request body: not valid JSON at byte %d: %s", se.Offset, se)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "request body: required (a JSON object)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request body: truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fieldError(strings.Trim(f, `"`), "unknown field (see the API reference for the fields of this object)")
	}
	return errorf(http.StatusBadRequest, "request body: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int32", "int64", "uint16", "uint32", "float64":
		return "a number"
	case "slice":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "another type"
}
