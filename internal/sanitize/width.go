package sanitize

import "github.com/mattn/go-runewidth"

func runeWidth(r rune) int { return runewidth.RuneWidth(r) }

func cellWidth(s string) int { return runewidth.StringWidth(s) }
