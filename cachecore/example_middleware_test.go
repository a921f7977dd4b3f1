package cachecore_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cachescope/cachescope/cachecore"
)

func ExampleResponseCache() {
	rdb, stop := newExampleRedis()
	defer stop()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb})

	products := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("the handler runs")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1,"name":"lamp"}]`)
	})
	// One middleware per route gives each route its own TTL.
	mux := http.NewServeMux()
	mux.Handle("GET /products", cachecore.ResponseCache(cache, cachecore.ResponseCacheOptions{TTL: 5 * time.Minute})(products))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for i := 0; i < 2; i++ {
		resp, err := http.Get(srv.URL + "/products")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Header.Get("X-Cache"), resp.Header.Get("Content-Type"), string(body))
	}
	// Output:
	// the handler runs
	// MISS application/json [{"id":1,"name":"lamp"}]
	// HIT application/json [{"id":1,"name":"lamp"}]
}
