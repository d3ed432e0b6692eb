package server

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ecoresponsable/bulletin/publication"
)

// maxTopics bounds the topics a form may post, whatever the site has.
const maxTopics = 500

// siteTags lists the tags of the published publications, one per slug (the
// digest compares topics and tags by slug), in the spelling of the newest
// publication that has it, sorted by slug.
func siteTags(pubs []*publication.Publication) []string {
	bySlug := map[string]string{}
	for _, pub := range pubs {
		for _, tag := range pub.Tags {
			tag = strings.TrimSpace(tag)
			slug := publication.Slug(tag)
			if slug == "" {
				continue
			}
			if _, ok := bySlug[slug]; !ok {
				bySlug[slug] = tag
			}
		}
	}
	slugs := make([]string, 0, len(bySlug))
	for slug := range bySlug {
		slugs = append(slugs, slug)
	}
	slices.Sort(slugs)
	out := make([]string, len(slugs))
	for i, slug := range slugs {
		out[i] = bySlug[slug]
	}
	return out
}

// topicSet is the topics a form offers: the site's tags, and on the
// preferences page the subscriber's own topics that the site no longer has
// (so that they can be unchecked).
type topicSet struct {
	bySlug map[string]string // slug → the spelling stored
	slugs  []string          // in the order shown
	labels publication.Labels
}

// topics returns the site's current tags plus extra.
func (p *pages) topics(extra []string) topicSet {
	var tags []string
	if t := p.s.tags.Load(); t != nil {
		tags = *t
	}
	ts := topicSet{bySlug: make(map[string]string, len(tags)+len(extra)), labels: p.labels}
	for _, list := range [][]string{tags, extra} {
		for _, tag := range list {
			slug := publication.Slug(tag)
			if _, ok := ts.bySlug[slug]; slug == "" || ok {
				continue
			}
			ts.bySlug[slug] = strings.TrimSpace(tag)
			ts.slugs = append(ts.slugs, slug)
		}
	}
	slices.SortFunc(ts.slugs, func(a, b string) int { return cmp.Compare(a, b) })
	return ts
}

// topicChoice is one checkbox of the topics fieldset.
type topicChoice struct {
	ID, Value, Label string
	Checked          bool
}

// choices are the checkboxes, those of checked (compared by slug) ticked.
func (ts topicSet) choices(checked []string) []topicChoice {
	on := make(map[string]bool, len(checked))
	for _, c := range checked {
		on[publication.Slug(c)] = true
	}
	out := make([]topicChoice, len(ts.slugs))
	for i, slug := range ts.slugs {
		out[i] = topicChoice{ID: "topic-" + slug, Value: ts.bySlug[slug], Label: ts.labels.Of(ts.bySlug[slug]), Checked: on[slug]}
	}
	return out
}

// resolve maps posted topics to their stored spelling; ok is false when one
// is not among the offered topics (or there are too many to be real).
func (ts topicSet) resolve(posted []string) (topics []string, ok bool) {
	if len(posted) > maxTopics {
		return nil, false
	}
	for _, t := range posted {
		tag, known := ts.bySlug[publication.Slug(t)]
		if !known {
			return nil, false
		}
		if !slices.Contains(topics, tag) {
			topics = append(topics, tag)
		}
	}
	return topics, true
}
