// Package tmuxtest drives a terminal program in a detached tmux session,
// for end-to-end tests that look at the screen the way a user does.
package tmuxtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Session is a tmux session running one command, on its own tmux server
// socket so tests never touch the user's tmux.
type Session struct {
	tb     testing.TB
	socket string
	name   string
}

// Start runs command (a shell command line) in a width x height session.
// The test is skipped when tmux is missing, unless
// CACHESCOPE_REQUIRE_REDIS=1 (CI), when it fails.
func Start(tb testing.TB, width, height int, command string) *Session {
	tb.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CACHESCOPE_REQUIRE_REDIS") == "1" {
			tb.Fatal("tmux not found on PATH (apt-get install tmux)")
		}
		tb.Skip("tmux not found on PATH; end-to-end test skipped")
	}
	s := &Session{tb: tb, socket: fmt.Sprintf("cachescope-test-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "t"}
	s.tmux("new-session", "-d", "-s", s.name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command)
	// Keep the pane after the program exits, to read its last screen.
	s.tmux("set-option", "-t", s.name, "remain-on-exit", "on")
	tb.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *Session) tmux(args ...string) string {
	s.tb.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Screen returns the visible screen as text.
func (s *Session) Screen() string { return s.tmux("capture-pane", "-p", "-t", s.name) }

// ScreenANSI returns the visible screen with its colors and attributes as
// escape sequences.
func (s *Session) ScreenANSI() string { return s.tmux("capture-pane", "-p", "-e", "-t", s.name) }

// Send sends keys, in tmux send-keys syntax ("q", "Enter", "Escape").
func (s *Session) Send(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// Type sends text literally.
func (s *Session) Type(text string) { s.tmux("send-keys", "-t", s.name, "-l", text) }

// WaitFor polls the screen until cond holds, or fails the test with the
// last screen after timeout.
func (s *Session) WaitFor(what string, timeout time.Duration, cond func(screen string) bool) string {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	var screen string
	for {
		screen = s.Screen()
		if cond(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("timed out after %v waiting for %s; screen:\n%s", timeout, what, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitText waits until the screen contains text.
func (s *Session) WaitText(text string, timeout time.Duration) string {
	s.tb.Helper()
	return s.WaitFor(fmt.Sprintf("%q", text), timeout, func(screen string) bool { return strings.Contains(screen, text) })
}

// Exited reports whether the program has exited, and its exit status. The
// status can be "" for a while after the pane died (tmux reaps the process
// later, seen under heavy load), so callers wait on dead alone.
func (s *Session) Exited() (bool, string) {
	out := strings.TrimSpace(s.tmux("display-message", "-p", "-t", s.name, "#{pane_dead} #{pane_dead_status}"))
	dead, status, _ := strings.Cut(out, " ")
	return dead == "1", status
}

// WaitExit waits until the program exits and fails the test if it does not
// within timeout, or if it exits with a status other than 0.
func (s *Session) WaitExit(timeout time.Duration) {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		dead, status := s.Exited()
		if dead {
			// Give tmux a moment to record the status.
			for i := 0; status == "" && i < 20; i++ {
				time.Sleep(50 * time.Millisecond)
				_, status = s.Exited()
			}
			if status != "" && status != "0" {
				s.tb.Fatalf("the program exited with status %s; screen:\n%s", status, s.Screen())
			}
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("the program did not exit within %v; screen:\n%s", timeout, s.Screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
