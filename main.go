// Command keyward is a self-hosted console for an API gateway team's keys,
// certificates, JWKs, HSM signing keys and API credentials: one binary, one
// SQLite file. main.go only wires things: configuration → database → master
// key → services → routes → serve; see internal/app.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/app"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/hsm/pkcs11"
	"github.com/keyward/keyward/internal/tlsreload"
)

//go:embed schema.sql
var schemaSQL string

const usage = `Keyward: keys, certificates, JWKs, signing keys and API credentials for an API gateway team.

Usage:
  keyward [serve] [flags]                              run the server (the default)
  keyward user create --username NAME [--admin]        create a user; the password is read from stdin
  keyward token create --username NAME --name TOKEN [--expires 720h]
                                                       print a new Personal API Access Token
  keyward backup FILE                                  write a consistent copy of the database
  keyward audit verify                                 check the audit log's hash chain (exit 0 when intact)
  keyward healthcheck                                  exit 0 when the local server's /healthz answers (for containers;
                                                       reads KEYWARD_ADDR, and KEYWARD_TLS_CERT_FILE for https)
  keyward hsm info [--hsm-module PATH --hsm-token-label L]
                                                       describe the key manager holding signing keys
  keyward hsm check-pin --hsm-module PATH --hsm-token-label L
                                                       exit 0 when the PIN on stdin is the token's user PIN
  keyward version                                      print the version

Every command takes --data-dir (env KEYWARD_DATA_DIR, default ./data).
Run "keyward serve --help" for the server's flags.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv config.Getenv) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nServer flags:")
		fs, _, _ := serveFlags(getenv)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stderr, getenv)
	case "user":
		err = cmdUser(ctx, args, stdin, stdout, getenv)
	case "token":
		err = cmdToken(ctx, args, stdout, getenv)
	case "backup":
		err = cmdBackup(ctx, args, stdout, getenv)
	case "audit":
		err = cmdAudit(ctx, args, stdout, getenv)
	case "healthcheck":
		err = cmdHealthcheck(ctx, getenv)
	case "hsm":
		err = cmdHSM(ctx, args, stdin, stdout, getenv)
	case "version":
		fmt.Fprintln(stdout, "keyward", app.Version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "keyward: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return int(ee)
	}
	if err != nil {
		fmt.Fprintln(stderr, "keyward:", err)
		return 1
	}
	return 0
}

// exitError ends a command with a status and no further message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func serveFlags(getenv config.Getenv) (*flag.FlagSet, *config.Config, func() error) {
	cfg := &config.Config{}
	fs := flag.NewFlagSet("keyward serve", flag.ContinueOnError)
	finish := config.BindServe(fs, cfg, getenv)
	return fs, cfg, finish
}

// cmdServe runs the server until SIGINT or SIGTERM, then shuts down
// gracefully.
func cmdServe(ctx context.Context, args []string, stderr io.Writer, getenv config.Getenv) error {
	fs, cfg, finish := serveFlags(getenv)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := finish(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	// The certificate is checked before the database is opened, so a bad
	// file stops the start with nothing created.
	var certs *tlsreload.Reloader
	if cfg.TLS() {
		var err error
		if certs, err = tlsreload.New(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Open(ctx, *cfg, schemaSQL, app.Options{LogOutput: stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	log := a.Logger
	if a.MasterKeyCreated {
		log.Warn("generated a new master key; back it up together with the database, or encrypted data is lost", "file", cfg.KeyFile())
	}
	e, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if tok, err := a.Auth.NewSetupToken(ctx); err != nil {
		return err
	} else if tok != "" {
		// Printed, not logged: the link is for the operator's eyes only.
		fmt.Fprintf(stderr, "\n  No users yet. Open this one-time link to create the first administrator:\n\n    %s/setup/%s\n\n", cfg.BaseURL, tok)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := serve(ctx, srv, ln, certs, log)
	log.Info("keyward listening", "addr", ln.Addr().String(), "url", cfg.BaseURL, "tls", certs != nil, "data_dir", cfg.DataDir, "version", app.Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return a.DB.Checkpoint(sctx)
}

// serve starts srv on ln in the background and returns the channel that
// receives the error ending it. With certs it serves HTTPS and reloads the
// certificate on SIGHUP and when its files change, until ctx ends.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, certs *tlsreload.Reloader, log *slog.Logger) <-chan error {
	errc := make(chan error, 1)
	if certs == nil {
		go func() { errc <- srv.Serve(ln) }()
		return errc
	}
	srv.TLSConfig = certs.ServerConfig()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		certs.Watch(ctx, clock.System{}, tlsreload.PollInterval, hup, log)
		signal.Stop(hup)
	}()
	log.Info("serving HTTPS", append([]any{"cert_file", certs.CertFile()}, tlsreload.Describe(certs.Certificate())...)...)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	return errc
}

// openData opens the data directory for a command-line subcommand.
func openData(ctx context.Context, name string, args []string, getenv config.Getenv, bind func(*flag.FlagSet)) (*app.App, *flag.FlagSet, error) {
	cfg := config.Config{LogFormat: "text", LogLevel: "error"}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	config.BindData(fs, &cfg, getenv)
	if bind != nil {
		bind(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	// Only "user create" may start a new data directory; the other commands
	// work on an existing one, so a mistyped --data-dir is reported instead
	// of creating an empty database and a new master key there.
	if name != "keyward user create" {
		if _, err := os.Stat(cfg.DBPath()); err != nil {
			return nil, nil, fmt.Errorf("no database at %s: check --data-dir (or KEYWARD_DATA_DIR)", cfg.DBPath())
		}
	}
	// A command is not the server: it runs no background schedule (expiry
	// alerts are sent by the server alone).
	a, err := app.Open(ctx, cfg, schemaSQL, app.Options{ManualSchedule: true})
	return a, fs, err
}

var cli = access.Principal{Username: "cli", Via: "cli"}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv config.Getenv) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: keyward user create --username NAME [--admin] < password")
	}
	var username string
	var admin bool
	a, _, err := openData(ctx, "keyward user create", args[1:], getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the new user's name")
		fs.BoolVar(&admin, "admin", false, "make the user an administrator")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if username == "" {
		return fmt.Errorf("--username is required")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if _, err := a.Auth.CreateUser(ctx, cli, username, password, admin); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s\n", username)
	return nil
}

func cmdToken(ctx context.Context, args []string, stdout io.Writer, getenv config.Getenv) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: keyward token create --username NAME --name TOKENNAME [--expires 720h]")
	}
	var username, name string
	var expires time.Duration
	a, _, err := openData(ctx, "keyward token create", args[1:], getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the user the token acts as")
		fs.StringVar(&name, "name", "", "a name for the token")
		fs.DurationVar(&expires, "expires", 720*time.Hour, "lifetime; 0 for no expiry")
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if username == "" || name == "" {
		return fmt.Errorf("--username and --name are required")
	}
	p := cli
	p.Username = username
	tok, err := a.Auth.CreateToken(ctx, p, username, name, expires)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok.Value)
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout io.Writer, getenv config.Getenv) error {
	a, fs, err := openData(ctx, "keyward backup", args, getenv, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: keyward backup [--data-dir DIR] FILE")
	}
	if err := a.DB.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (the master key is not in it: back up %s separately)\n", fs.Arg(0), a.Config.KeyFile())
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout io.Writer, getenv config.Getenv) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: keyward audit verify [--data-dir DIR]")
	}
	a, _, err := openData(ctx, "keyward audit verify", args[1:], getenv, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	if !res.Intact() {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries before it are intact)\n", res.BadID, res.Problem, res.Entries)
		return exitError(1)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", res.Entries)
	return nil
}

// cmdHealthcheck asks the server at KEYWARD_ADDR for /healthz; containers
// run it as their HEALTHCHECK (the slim image has no curl). When
// KEYWARD_TLS_CERT_FILE is set the server speaks HTTPS, and the check does
// not verify its certificate: it connects to the server's own address on
// this machine, sends no credentials and reads only the status, and the
// certificate names the public host, not 127.0.0.1.
func cmdHealthcheck(ctx context.Context, getenv config.Getenv) error {
	addr := getenv("KEYWARD_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	scheme, client := "http", http.DefaultClient
	if getenv("KEYWARD_TLS_CERT_FILE") != "" {
		scheme = "https"
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // see above: the local server's own address
			MinVersion:         tls.VersionTLS12,
		}}}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	return nil
}

// cmdHSM runs "keyward hsm info" (the key manager signing keys live in) and
// "keyward hsm check-pin" (the child process that tests a PKCS#11 user PIN:
// in the server's own process the token is already logged in, so a second
// login cannot tell a wrong PIN; the PIN comes on stdin).
func cmdHSM(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv config.Getenv) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: keyward hsm info|check-pin [flags]")
	}
	switch args[0] {
	case "check-pin":
		module, label, err := pkcs11.ParseCheckPINArgs(args[1:])
		if err != nil {
			return err
		}
		if code := pkcs11.RunCheckPIN(stdin, module, label); code != 0 {
			return exitError(code)
		}
		return nil
	case "info":
		cfg := config.Config{}
		fs := flag.NewFlagSet("keyward hsm info", flag.ContinueOnError)
		config.BindHSM(fs, &cfg, getenv)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if cfg.HSMModule == "" {
			fmt.Fprintln(stdout, "backend: Built-in software token — no HSM configured (give --hsm-module to use a PKCS#11 HSM)")
			return nil
		}
		if err := cfg.FinishHSM(getenv); err != nil {
			return err
		}
		km, err := pkcs11.New(pkcs11.Config{Module: cfg.HSMModule, TokenLabel: cfg.HSMTokenLabel, PIN: cfg.HSMPIN, MaxSessions: cfg.HSMMaxSessions})
		if err != nil {
			return err
		}
		defer km.Close()
		info, err := km.Info(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backend: %s\nmodule: %s\ntoken: %s\nmanufacturer: %s\nmodel: %s\nserial: %s\nPIN flags: %s\n",
			info.Backend, cfg.HSMModule, info.Label, info.Manufacturer, info.Model, info.Serial, strings.Join(info.PINFlags, ", "))
		return nil
	}
	return fmt.Errorf("unknown hsm command %q: use info or check-pin", args[0])
}
