package ui

import "github.com/charmbracelet/x/ansi"

// ansiTruncate cuts a string that may hold ANSI styling to w cells without
// breaking an escape sequence.
func ansiTruncate(s string, w int) string { return ansi.Truncate(s, w, "") }

// stripANSI removes styling, for golden files and width checks.
func stripANSI(s string) string { return ansi.Strip(s) }

// cellWidth is the terminal width of an unstyled string.
func cellWidth(s string) int { return ansi.StringWidth(s) }

// ansiCut drops the first w cells of a possibly styled string.
func ansiCut(s string, w int) string { return ansi.TruncateLeft(s, w, "") }
