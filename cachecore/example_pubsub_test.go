package cachecore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cachescope/cachescope/cachecore"
)

type PriceChange struct {
	ProductID int     `json:"product_id"`
	Price     float64 `json:"price"`
}

func ExampleSubscribe() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})

	// The handler runs on the subscription's own goroutine; hand the
	// messages over to the rest of the program.
	changes := make(chan string, 10)
	sub, err := cachecore.Subscribe(ctx, cache, func(channel string, msg PriceChange) {
		changes <- fmt.Sprintf("%s: product %d now costs %.2f", channel, msg.ProductID, msg.Price)
	}, "prices")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	// Subscribe has returned, so the subscription is live: this message
	// cannot be missed. It goes out on the Redis channel "shop:prices".
	n, err := cachecore.Publish(ctx, cache, "prices", PriceChange{ProductID: 42, Price: 9.99})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("receivers:", n)
	fmt.Println(<-changes)
	// Output:
	// receivers: 1
	// prices: product 42 now costs 9.99
}

func ExamplePSubscribe() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})

	events := make(chan string, 10)
	sub, err := cachecore.PSubscribe(ctx, cache, func(channel string, orderID int) {
		events <- fmt.Sprint(channel, " ", orderID)
	}, "orders:*")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()

	for _, ch := range []string{"orders:created", "invoices:sent", "orders:shipped"} {
		if _, err := cachecore.Publish(ctx, cache, ch, 1001); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(<-events)
	fmt.Println(<-events)
	st := sub.Stats()
	fmt.Println("received:", st.Received, "dropped:", st.Dropped)
	// Output:
	// orders:created 1001
	// orders:shipped 1001
	// received: 2 dropped: 0
}
