package authflow

import "path/filepath"

// Dir is the cache directory: the token files' fallback lives under it.
func (c *Cache) Dir() string { return c.dir }

// TokenDir is where token files go when no keyring is available.
func (c *Cache) TokenDir() string { return filepath.Join(c.dir, "tokens") }

// Service is the keyring service name the tokens are stored under.
func (c *Cache) Service() string { return c.service }
