package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRoleModules: each role on the module graph opens only what it needs,
// binds its API before its probes serve (a taken port fails the start
// before anything answers), and starts last, so that it stops first: the
// probes answer 503 and the stores stay open while it drains.
func TestRoleModules(t *testing.T) {
	t.Parallel()
	g := (&roleProcess{}).graph()
	for _, tt := range []struct {
		role string
		want []string
	}{
		{"web", []string{modStore, modBlobs, modBroker, modMetrics, modDocuments, modListener, modProbes, modWeb}},
		{"ml", []string{modStore, modBlobs, modListener, modMetrics, modProbes, modML}},
		{"scheduler", []string{modBroker, modMetrics, modProbes, modScheduler}},
	} {
		var r role
		for _, r = range roles {
			if r.name == tt.role {
				break
			}
		}
		require.Equal(t, tt.role, r.name)
		order, err := g.Order(r.module)
		require.NoError(t, err, tt.role)
		require.Equal(t, tt.want, order, tt.role)
	}
}

// TestWorkerModules: a worker opens the pipeline and keeps its classifiers
// current before its server fetches; up adds the web UI and API it serves
// on the same address, and its inbox and demo feeder run only once the
// worker does, and stop before it.
func TestWorkerModules(t *testing.T) {
	t.Parallel()
	worker := (&roleProcess{opts: &processOpts{documents: true}}).graph()
	order, err := worker.Order(modWorker)
	require.NoError(t, err)
	require.Equal(t, []string{modBroker, modMetrics, modStore, modBlobs, modDocuments, modAnalysis, modWorker}, order)

	up := (&roleProcess{opts: &processOpts{documents: true, all: true}}).graph()
	order, err = up.Order(modWorker, modInbox, modDemo)
	require.NoError(t, err)
	require.Equal(t, []string{modBroker, modMetrics, modStore, modBlobs, modDocuments, modAnalysis, modAPI, modWorker, modInbox, modDemo}, order)
}
