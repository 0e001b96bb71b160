package servercmd

import "strconv"

type errorString string

func (e errorString) Error() string { return string(e) }

func quote(s string) string { return strconv.Quote(s) }
