//go:build !linux

package main

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
