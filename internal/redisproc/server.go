// Package redisproc runs redis-server processes on free loopback ports:
// the throwaway servers of the tests (through internal/redistest) and of
// `cachescope demo`. Each keeps its files in a temporary directory, has
// persistence turned off, and dies with the process that started it.
package redisproc

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// InstallHint says how to get redis-server.
const InstallHint = "install it with `apt-get install redis-server redis-tools` (or your package manager)"

// Binary returns the path of redis-server, or an error saying how to get it.
func Binary() (string, error) {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found on PATH: %s", InstallHint)
	}
	return p, nil
}

// Config describes one redis-server process.
type Config struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// MaxPort bounds the randomly chosen port (exclusive). 0 means no bound
	// beyond the OS's choice. Cluster nodes need port+10000 free for their
	// bus, so they pass 55536 and ask for BusPortFree.
	MaxPort int
	// BusPortFree also requires port+10000 to be free (cluster bus).
	BusPortFree bool
	// Dir holds the log and any files the server writes; "" makes a
	// temporary directory that Close removes.
	Dir string
	// Args are extra redis-server arguments, for example
	// []string{"--maxmemory", "10mb"}.
	Args []string
	// StartTimeout bounds the wait for the server to answer PING; 0 means 10s.
	StartTimeout time.Duration
	// ConfigText, when set, is written to a config file in Dir that the
	// server reads before Args. A sentinel needs one: it rewrites its
	// config file with what it learns.
	ConfigText string
	// TLS, when set, makes the server listen with TLS only (the port is
	// its tls-port, the plain port is off), with these certificates.
	TLS *TLSFiles
}

// Server is a running (or stopped) redis-server process.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Port is the TCP port.
	Port int
	// Dir is the server's working directory.
	Dir string

	cfg     Config
	ownDir  bool
	binary  string
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// Start starts a redis-server and waits until it answers PING. The caller
// must call Close.
func Start(cfg Config) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	s := &Server{cfg: cfg, binary: bin, Dir: cfg.Dir}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "cachescope-redis-")
		if err != nil {
			return nil, err
		}
		s.Dir, s.ownDir = d, true
	}
	// A port picked free can be taken before the server binds it; try a
	// few times before giving up.
	var lastErr error
	for attempt := 0; attempt < 8; attempt++ {
		port := cfg.Port
		if port == 0 {
			if port, err = freePort(cfg.MaxPort, cfg.BusPortFree); err != nil {
				lastErr = err
				continue
			}
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
		if cfg.Port != 0 {
			break
		}
	}
	s.removeDir()
	return nil, lastErr
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var args []string
	if s.cfg.ConfigText != "" {
		conf := filepath.Join(s.Dir, fmt.Sprintf("redis-%d.conf", s.Port))
		if err := os.WriteFile(conf, []byte(s.cfg.ConfigText), 0o600); err != nil {
			return fmt.Errorf("redisproc: write config: %w", err)
		}
		args = append(args, conf)
	}
	args = append(args, "--port", strconv.Itoa(s.Port))
	if t := s.cfg.TLS; t != nil {
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(s.Port),
			"--tls-cert-file", t.ServerCert, "--tls-key-file", t.ServerKey, "--tls-ca-cert-file", t.CA,
			"--tls-auth-clients", t.authClients())
	}
	args = append(args,
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.Dir,
		"--logfile", s.logPath(),
		"--daemonize", "no",
	)
	args = append(args, s.cfg.Args...)
	cmd := exec.Command(s.binary, args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redisproc: start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.stopped = cmd, exited, false

	deadline := time.Now().Add(s.cfg.StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redisproc: redis-server on port %d exited at start: %s", s.Port, s.logTail())
		default:
		}
		if s.ping() == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.killLocked()
	return fmt.Errorf("redisproc: redis-server on port %d did not answer within %v: %s", s.Port, s.cfg.StartTimeout, s.logTail())
}

// Options returns go-redis options for this server, with context deadlines
// honoured so a test that times out an operation really bounds it. For a
// TLS server they trust its CA and present the client certificate.
func (s *Server) Options() *redis.Options {
	o := &redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true}
	if s.cfg.TLS != nil {
		o.TLSConfig = s.cfg.TLS.ClientConfig()
	}
	return o
}

// Running reports whether the process was started and has not been
// stopped or killed since (a paused server is running).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.stopped {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Pid returns the process id, or 0 when the server is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.stopped {
		return 0
	}
	return s.cmd.Process.Pid
}

// Cleaner is the part of testing.TB that Client needs, so that this
// package does not import testing.
type Cleaner interface {
	Helper()
	Cleanup(func())
}

// Client returns a new go-redis client for this server, closed at cleanup.
func (s *Server) Client(tb Cleaner) *redis.Client {
	tb.Helper()
	c := redis.NewClient(s.Options())
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop shuts the server down (SIGTERM) and waits for it to exit. The port
// stays reserved for Restart in the sense that nothing else of ours takes it.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signalAndWait(syscall.SIGTERM)
}

// Kill kills the server with SIGKILL, as a crash would.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signalAndWait(syscall.SIGKILL)
}

// Restart starts a stopped server again on the same port with the same
// arguments. Its data is gone (persistence is off).
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Pause stops the process with SIGSTOP: it keeps its connections open but
// answers nothing, like a hung server.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

// Close stops the server and removes its temporary directory.
func (s *Server) Close() error {
	err := s.Kill()
	s.removeDir()
	return err
}

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.stopped {
		return errors.New("redisproc: server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

func (s *Server) signalAndWait(sig syscall.Signal) error {
	if s.cmd == nil || s.stopped {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on SIGTERM
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.stopped = true
	return nil
}

func (s *Server) killLocked() { _ = s.signalAndWait(syscall.SIGKILL) }

func (s *Server) removeDir() {
	if s.ownDir {
		_ = os.RemoveAll(s.Dir)
	}
}

func (s *Server) logPath() string { return filepath.Join(s.Dir, fmt.Sprintf("redis-%d.log", s.Port)) }

// logTail returns the last lines of the server log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// ping sends an inline PING and expects +PONG (or NOAUTH), without a client
// library, so readiness does not depend on the code under test.
func (s *Server) ping() error {
	var conn net.Conn
	var err error
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if s.cfg.TLS != nil {
		conn, err = tls.DialWithDialer(d, "tcp", s.Addr, s.cfg.TLS.ClientConfig())
	} else {
		conn, err = d.Dial("tcp", s.Addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	// A server that wants a password (NOAUTH) is up and serving too; one
	// still loading its data is not.
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("unexpected reply %q", strings.TrimSpace(line))
}
