package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// PostgresURL is the PostgreSQL server tests use, as the URL of a database
// to connect to while creating their own: QUIRE_TEST_POSTGRES_URL, or a
// local default.
func PostgresURL() string {
	if u := os.Getenv("QUIRE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewPostgresDatabase creates a database for one test, dropped at cleanup,
// and returns its URL: PostgresURL with the database's name, its settings
// kept. Without PostgreSQL it skips the test, or fails it, as
// RequireService says.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	// The admin connection is a plain one: pgxpool's settings (pool_*)
	// would reach the server as unknown parameters.
	au, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("QUIRE_TEST_POSTGRES_URL: %v", err)
	}
	q := au.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	au.RawQuery = q.Encode()
	admin, err := sql.Open("pgx", au.String())
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	RequireService(t, "PostgreSQL at "+au.Redacted(), admin.PingContext(ctx))
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "quire_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(PostgresURL())
	u.Path = "/" + name
	return u.String()
}
