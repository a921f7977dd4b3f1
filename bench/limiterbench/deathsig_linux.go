package main

import "syscall"

// setDeathSignal makes the server die with the benchmark, even on a crash.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
