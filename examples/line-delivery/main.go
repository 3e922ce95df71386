// Command line-delivery (W3) sends a LINE message to the LINE-linked
// customers who carry a segment's tag in Shopify. The send record is
// written to a file before anything goes out and after every chunk, so
// a rerun (after a crash, or the next hour with a changed member list)
// sends each user the message at most once: users already reached are
// skipped, chunks whose answer was lost go again under their old retry
// keys, which LINE accepts once.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	dir, err := os.MkdirTemp("", "line-delivery-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = run(context.Background(), dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "line-delivery:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) error {
	store := shopifytest.NewServer()
	defer store.Close()
	// The first multicast is accepted but its answer is lost.
	chat := linetest.NewServer(linetest.WithFaults(shopcrmtest.Fault{Op: string(line.EndpointMulticast), Kind: shopcrmtest.FaultLostResponse}))
	defer chat.Close()
	lineID := map[string]string{} // Shopify customer GID → LINE user id, from account linking
	for i := range 3 {
		u := fmt.Sprintf("U%032x", i+1)
		id := store.AddCustomer(shopifytest.Customer{FirstName: fmt.Sprint("Fan ", i+1), Tags: []string{"line", "ecp-fan"}})
		lineID[shopify.CustomerGID(id)] = u
		chat.AddFollowers(u)
	}
	shop, bot := store.Client(), chat.Client()
	recordFile := filepath.Join(dir, "send-2026-11-23-fans.json")

	for run := 1; run <= 2; run++ {
		if run == 2 { // a new fan joined between the runs
			id := store.AddCustomer(shopifytest.Customer{FirstName: "Fan 4", Tags: []string{"line", "ecp-fan"}})
			lineID[shopify.CustomerGID(id)] = fmt.Sprintf("U%032x", 4)
			chat.AddFollowers(lineID[shopify.CustomerGID(id)])
		}
		var to []string
		for id, err := range shop.Segments.TaggedCustomers(ctx, "ecp-fan") {
			if err != nil {
				return err
			}
			if u, ok := lineID[id.String()]; ok {
				to = append(to, u)
			}
		}
		var rec line.SendRecord
		if b, err := os.ReadFile(recordFile); err == nil {
			if err := json.Unmarshal(b, &rec); err != nil {
				return err
			}
		}
		save := func(r *line.SendRecord) error {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			tmp := recordFile + ".tmp"
			if err := os.WriteFile(tmp, b, 0o600); err != nil {
				return err
			}
			return os.Rename(tmp, recordFile) // whole or not at all
		}
		res, err := bot.Messages.Multicast(ctx, &line.MulticastRequest{
			To:       to,
			Messages: []line.Message{line.TextMessage{Text: "New roast today!"}},
			RetryKey: line.KeyFrom("shopcrm-test.myshopify.com", "2026-11-23", "fans"),
			Record:   &rec,
			Save:     save,
		})
		if res != nil {
			if serr := save(res.Record); serr != nil {
				return serr
			}
			fmt.Printf("run %d: %d recipients, %d already sent, %d unknown, %d duplicate chunks\n",
				run, res.Recipients, len(res.AlreadySent), len(res.Unknown), res.Duplicates)
		}
		if err != nil {
			fmt.Println("  ", err)
		}
	}
	for i := range 4 {
		u := fmt.Sprintf("U%032x", i+1)
		fmt.Printf("user …%s: %d message(s)\n", u[len(u)-4:], len(chat.Messages(u)))
	}
	return nil
}
