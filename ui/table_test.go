package ui

import (
	"reflect"
	"testing"
)

// The flexible column takes the space left, but no more than its max: on
// a wide terminal the node addresses do not push the numbers to the far
// right.
func TestTableFlexColumnWidth(t *testing.T) {
	cols := []column{{title: "node", max: 30}, {title: "ops/s", width: 8}, {title: "state", width: 10}}
	for _, tc := range []struct {
		width int
		want  []int
	}{
		{width: 40, want: []int{19, 8, 10}},  // the space left: 40 - (8+1) - (10+1) - 1
		{width: 200, want: []int{30, 8, 10}}, // capped
		{width: 10, want: []int{4, 8, 10}},   // never below 4
	} {
		tb := table{cols: cols, width: tc.width}
		if got := tb.widths(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("width %d: %v, want %v", tc.width, got, tc.want)
		}
	}
}
