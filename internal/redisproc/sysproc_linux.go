package redisproc

import "syscall"

// sysProcAttr makes the server die with the test binary (no stray
// processes when a test panics or is killed) and puts it in its own process
// group, so a terminal's ctrl-c reaches the test, not the server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
