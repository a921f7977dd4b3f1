package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The password comes from the environment, never from the command line:
// a running cachescope's process arguments, as `ps` shows them to every
// user of the machine, do not hold it, and no flag takes one.
func TestPasswordNotInProcessArguments(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	const secret = "s3cret-in-env-7781"
	srv := redistest.Start(t, "--requirepass", secret)
	bin := buildBinary(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	cmd := exec.CommandContext(ctx, bin, "stats", "--watch", "--interval", "200ms", "--url", "redis://"+srv.Addr)
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+secret)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	// Authenticated and polling: lines with numbers come out.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), "\n") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no output from the running stats --watch:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(out.String(), "DOWN") {
		t.Fatalf("not authenticated:\n%s", out.String())
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	ps, err := exec.Command("ps", "-ww", "-o", "args=", "-p", pid).Output()
	if err != nil {
		t.Fatalf("ps: %v", err)
	}
	cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ps), "stats") {
		t.Fatalf("ps shows %q: not the process under test", ps)
	}
	for what, text := range map[string]string{"ps": string(ps), "cmdline": string(cmdline), "stdout": out.String(), "stderr": errOut.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the password is in the %s: %q", what, text)
		}
	}

	// No flag takes a password.
	for _, flag := range []string{"--password", "--pass", "-a", "--auth"} {
		b, err := exec.Command(bin, "stats", flag, secret).CombinedOutput()
		if code := exitCode(err); code != 2 || strings.Contains(string(b), secret) {
			t.Errorf("%s: exit %d, output %q", flag, code, b)
		}
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
