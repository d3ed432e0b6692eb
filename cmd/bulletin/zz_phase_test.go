package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/publication"
)

func TestZZPhase(t *testing.T) {
	dir := os.Getenv("PROF_DIR")
	if dir == "" {
		t.Skip()
	}
	cfg := config.Default()
	cfg.Site.URL = "https://example.org/"
	cfg.Feeds.Limit = 0
	cfg.Validate()
	ctx := context.Background()
	t0 := time.Now()
	site, err := publication.Load(ctx, dir, publication.Options{SiteURL: cfg.Site.URL, DataDir: "_data", IgnoreTags: []string{"posts"}})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	set := feed.Plan(site.Publications, feedOptions(cfg))
	publication.Render(ctx, set.Publications())
	t2 := time.Now()
	os.RemoveAll("/dev/shm/outphase")
	if _, err := feed.Build(ctx, "/dev/shm/outphase", set); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	t.Logf("load %v render %v build %v", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2))
}
