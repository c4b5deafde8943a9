package k8s

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// TestRenderings renders the base and every overlay, decodes every object
// strictly and checks every invariant.
func TestRenderings(t *testing.T) {
	t.Parallel()
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			r := render(t, dir)
			require.NotEmpty(t, r.all("Deployment"), "%s renders no Deployment", dir)
			require.NoError(t, errors.Join(runChecks(r)...))
		})
	}
}

// TestEveryRoleIsDeployed: the base runs each role of `quire serve` and the
// migration, so that an overlay cannot lose one by accident.
func TestEveryRoleIsDeployed(t *testing.T) {
	t.Parallel()
	r := render(t, "base")
	roles := map[string]bool{}
	for _, w := range r.workloads() {
		args := w.template.Spec.Containers[0].Args
		switch {
		case len(args) > 0 && args[0] == "migrate":
			roles["migrate"] = true
		case len(args) > 0 && args[0] == "serve":
			for i, a := range args {
				if v, ok := strings.CutPrefix(a, "--role="); ok {
					roles[v] = true
				} else if a == "--role" && i+1 < len(args) {
					roles[args[i+1]] = true
				}
			}
		}
	}
	for _, role := range []string{"web", "worker", "scheduler", "migrate"} {
		require.True(t, roles[role], "no workload runs %s", role)
	}
}

// TestEveryComponentIsRendered: each component is used by at least one
// overlay, so none of them escapes the checks above.
func TestEveryComponentIsRendered(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("components/*/kustomization.yaml")
	require.NoError(t, err)
	used := map[string]bool{}
	for _, dir := range kustomizations(t) {
		data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		require.NoError(t, err)
		var k types.Kustomization
		require.NoError(t, yaml.UnmarshalStrict(data, &k), dir)
		for _, c := range k.Components {
			used[filepath.Clean(filepath.Join(dir, c))] = true
		}
	}
	for _, d := range dirs {
		require.True(t, used[filepath.Dir(d)], "no overlay uses %s: it is never rendered nor checked", filepath.Dir(d))
	}
}

// TestStrictDecoding shows that a misspelt field fails the test instead of
// being dropped, as the API server or a controller would drop it.
func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    string
		json    string
		wantErr string
	}{
		{"unknown field", "apps/v1 Deployment", `{"spec":{"template":{"spec":{"containers":[{"name":"q","imagePullPolcy":"Always"}]}}}}`, "imagePullPolcy"},
		{"field in the wrong case", "apps/v1 Deployment", `{"spec":{"Replicas":2}}`, "Replicas"},
		{"field given twice", "v1 Service", `{"spec":{"type":"ClusterIP","type":"LoadBalancer"}}`, "duplicate"},
		{"unknown KEDA field", "keda.sh/v1alpha1 ScaledObject", `{"spec":{"scaleTargetRef":{"name":"w"},"minReplicas":1,"triggers":[]}}`, "minReplicas"},
		{"unknown Prometheus Operator field", "monitoring.coreos.com/v1 ServiceMonitor", `{"spec":{"selector":{},"endpoints":[{"port":"metrics","scrapeInterval":"30s"}]}}`, "scrapeInterval"},
		{"unknown Gateway API field", "gateway.networking.k8s.io/v1 HTTPRoute", `{"spec":{"rules":[{"backendRef":{"name":"web"}}]}}`, "backendRef"},
		{"unknown cert-manager field", "cert-manager.io/v1 Certificate", `{"spec":{"secretName":"tls","dnsName":["a"],"issuerRef":{"name":"i"}}}`, "dnsName"},
		{"unknown GKE field", "networking.gke.io/v1 HealthCheckPolicy", `{"spec":{"default":{"config":{"type":"HTTP","httpHealthCheck":{"path":"/readyz"}}}}}`, "path"},
		{"unknown kind", "networking.k8s.io/v1 Ingress", `{}`, "no Go type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			apiVersion, kind, _ := strings.Cut(tt.kind, " ")
			_, err := decodeStrict(apiVersion, kind, []byte(tt.json))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestChecksCatchBreakage breaks a rendering of the gke overlay, which uses
// every component, in one way at a time, and requires the checks to say so:
// a check that cannot fail protects nothing.
func TestChecksCatchBreakage(t *testing.T) {
	t.Parallel()
	const ns = "quire"
	tests := []struct {
		name    string
		breakIt func(t *testing.T, r *rendering)
		wantErr string
	}{
		{"a readiness probe removed", func(t *testing.T, r *rendering) {
			container(t, r, "quire-web").ReadinessProbe = nil
		}, "has no readiness probe"},
		{"a startup probe removed from Redis", func(t *testing.T, r *rendering) {
			sts := get[*appsv1.StatefulSet](t, r, "StatefulSet", ns, "quire-redis")
			sts.Spec.Template.Spec.Containers[0].StartupProbe = nil
		}, "has no startup probe"},
		{"requests removed", func(t *testing.T, r *rendering) {
			container(t, r, "quire-worker-jobs").Resources.Requests = nil
		}, "requests no cpu"},
		{"an image at latest", func(t *testing.T, r *rendering) {
			container(t, r, "quire-web").Image = "ghcr.io/quirehq/quire:latest"
		}, "is latest"},
		{"an untagged image", func(t *testing.T, r *rendering) {
			container(t, r, "quire-scheduler").Image = "registry.example.com:5000/quire"
		}, "has no tag"},
		{"two releases at once", func(t *testing.T, r *rendering) {
			container(t, r, "quire-worker-ocr").Image = "europe-docker.pkg.dev/example-project/quire/quire-ocr:0.2.0"
		}, "Quire's images are of 2 releases"},
		{"a Deployment that would start before the migration", func(t *testing.T, r *rendering) {
			delete(get[*appsv1.Deployment](t, r, "Deployment", ns, "quire-scheduler").Labels, afterMigrate)
		}, "it would start before the migration"},
		{"a grace period shorter than the shutdown timeout", func(t *testing.T, r *rendering) {
			d := get[*appsv1.Deployment](t, r, "Deployment", ns, "quire-worker-ocr")
			d.Spec.Template.Spec.TerminationGracePeriodSeconds = new(int64(125))
		}, "terminationGracePeriodSeconds 2m5s < preStop 0s + shutdown timeout 2m0s + 10s"},
		{"a preStop sleep longer than the slack", func(t *testing.T, r *rendering) {
			container(t, r, "quire-web").Lifecycle.PreStop.Sleep.Seconds = 40
		}, "preStop 40s"},
		{"the shutdown timeout left to the binary", func(t *testing.T, r *rendering) {
			c := container(t, r, "quire-worker-pipeline")
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "QUIRE_SHUTDOWN_TIMEOUT" })
		}, "states no shutdown timeout"},
		{"a shutdown timeout that waits forever", func(t *testing.T, r *rendering) {
			c := container(t, r, "quire-scheduler")
			c.Args = append(c.Args, "--shutdown-timeout=-1s")
		}, "not a positive duration"},
		{"a LoadBalancer Service", func(t *testing.T, r *rendering) {
			get[*corev1.Service](t, r, "Service", ns, "quire-web").Spec.Type = corev1.ServiceTypeLoadBalancer
		}, "is of type LoadBalancer"},
		{"a NodePort Service", func(t *testing.T, r *rendering) {
			get[*corev1.Service](t, r, "Service", ns, "quire-redis").Spec.Type = corev1.ServiceTypeNodePort
		}, "is of type NodePort"},
		{"a host port", func(t *testing.T, r *rendering) {
			container(t, r, "quire-worker-jobs").Ports[0].HostPort = 9090
		}, "binds host port"},
		{"a route to Redis", func(t *testing.T, r *rendering) {
			route := get[*gatewayv1.HTTPRoute](t, r, "HTTPRoute", ns, "quire-web")
			route.Spec.Rules[0].BackendRefs[0].Name = "quire-redis"
		}, "not the web role"},
		{"no default-deny policy", func(t *testing.T, r *rendering) {
			r.remove("NetworkPolicy", ns, "default-deny")
		}, "has no default-deny NetworkPolicy"},
		{"a default-deny policy that allows", func(t *testing.T, r *rendering) {
			p := get[*networkingv1.NetworkPolicy](t, r, "NetworkPolicy", ns, "default-deny")
			p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
		}, "has no default-deny NetworkPolicy"},
		{"Redis closed to Quire", func(t *testing.T, r *rendering) {
			r.remove("NetworkPolicy", ns, "allow-redis")
		}, "no NetworkPolicy lets anything reach StatefulSet quire/quire-redis on port 6379"},
		{"the web role closed to the edge", func(t *testing.T, r *rendering) {
			r.remove("NetworkPolicy", ns, "allow-edge-to-web")
		}, "no NetworkPolicy lets anything reach Deployment quire/quire-web on port 8080"},
		{"PostgreSQL cut off", func(t *testing.T, r *rendering) {
			p := get[*networkingv1.NetworkPolicy](t, r, "NetworkPolicy", ns, "allow-quire-egress")
			p.Spec.Egress = slices.DeleteFunc(p.Spec.Egress, func(e networkingv1.NetworkPolicyEgressRule) bool {
				return e.Ports[0].Port.IntVal == 5432
			})
		}, "may not reach port 5432"},
		{"a budget removed", func(t *testing.T, r *rendering) {
			r.remove("PodDisruptionBudget", ns, "quire-scheduler")
		}, "covered by 0 PodDisruptionBudgets"},
		{"a budget that blocks every eviction", func(t *testing.T, r *rendering) {
			pdb := get[*policyv1.PodDisruptionBudget](t, r, "PodDisruptionBudget", ns, "quire-web")
			pdb.Spec.MaxUnavailable = new(intstr.FromInt32(0))
		}, "no pod could ever be evicted"},
		{"a rollout that may drop a pod first", func(t *testing.T, r *rendering) {
			d := get[*appsv1.Deployment](t, r, "Deployment", ns, "quire-worker-pipeline")
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = new(intstr.FromString("25%"))
		}, "has maxUnavailable 25%, not 0"},
		{"replicas beside an autoscaler", func(t *testing.T, r *rendering) {
			get[*appsv1.Deployment](t, r, "Deployment", ns, "quire-web").Spec.Replicas = new(int32(3))
		}, "sets replicas"},
		{"a trigger on a queue the group does not serve", func(t *testing.T, r *rendering) {
			so := get[*kedav1alpha1.ScaledObject](t, r, "ScaledObject", ns, "quire-worker-ocr")
			so.Spec.Triggers[0].Metadata["listName"] = "quire:{extract}:ready"
		}, "watches queue extract, which quire-worker-ocr does not serve"},
		{"a Redis prefix the triggers do not follow", func(t *testing.T, r *rendering) {
			c := container(t, r, "quire-worker-jobs")
			c.Args = append(c.Args, "--redis-prefix=tenant1")
		}, `watches keys under "quire", but quire-worker-jobs uses the Redis prefix "tenant1"`},
		{"a Redis address KEDA cannot resolve", func(t *testing.T, r *rendering) {
			for _, o := range r.all("ConfigMap") {
				if cm := o.Obj.(*corev1.ConfigMap); cm.Data["KEDA_REDIS_ADDRESS"] != "" {
					cm.Data["KEDA_REDIS_ADDRESS"] = "quire-redis:6379"
				}
			}
		}, "KEDA's operator runs in another namespace"},
		{"a writable root filesystem", func(t *testing.T, r *rendering) {
			container(t, r, "quire-worker-ocr").SecurityContext.ReadOnlyRootFilesystem = new(false)
		}, "can write its root filesystem"},
		{"a missing ConfigMap", func(t *testing.T, r *rendering) {
			for _, o := range r.all("ConfigMap") {
				if strings.HasPrefix(o.Name, "quire-config") {
					r.remove("ConfigMap", ns, o.Name)
				}
			}
		}, "refers to ConfigMap"},
		{"the web role trusting no proxy", func(t *testing.T, r *rendering) {
			c := container(t, r, "quire-web")
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "QUIRE_TRUSTED_PROXIES" })
		}, "the web role sets no --trusted-proxies"},
		{"the load balancer's proxies not trusted", func(t *testing.T, r *rendering) {
			c := container(t, r, "quire-web")
			c.Args = append(c.Args, "--trusted-proxies=10.0.0.0/8")
		}, "35.191.0.0/16 may reach the web port"},
		{"a monitor scraping a port the Service lacks", func(t *testing.T, r *rendering) {
			sm := get[*monitoringv1.ServiceMonitor](t, r, "ServiceMonitor", ns, "quire")
			sm.Spec.Endpoints[0].Port = "http"
		}, `scrapes port "http"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := render(t, "overlays/gke")
			require.Empty(t, runChecks(r), "the unbroken rendering must pass")
			tt.breakIt(t, r)
			require.ErrorContains(t, errors.Join(runChecks(r)...), tt.wantErr)
		})
	}
}

// get returns the object of kind in ns named name as its Go type.
func get[T any](t *testing.T, r *rendering, kind, ns, name string) T {
	t.Helper()
	o, ok := r.find(kind, ns, name)
	require.True(t, ok, "%s %s/%s is not rendered", kind, ns, name)
	return o.Obj.(T)
}

// container returns the first container of Deployment name in namespace
// quire.
func container(t *testing.T, r *rendering, name string) *corev1.Container {
	t.Helper()
	return &get[*appsv1.Deployment](t, r, "Deployment", "quire", name).Spec.Template.Spec.Containers[0]
}

// knownMetrics are the series the alerts and the dashboard may use: what
// Quire's /metrics serves today (internal/app/httpserve.go and internal/metrics), the
// Go and process collectors, Prometheus's up, and kube-state-metrics. A
// dashboard or rule naming anything else would show nothing or never fire.
var knownMetrics = []string{
	"go_goroutines",
	"kube_deployment_spec_replicas",
	"kube_deployment_status_replicas_updated",
	"kube_job_status_failed",
	"process_cpu_seconds_total",
	"process_resident_memory_bytes",
	"quire_http_request_duration_seconds_bucket",
	"quire_http_request_duration_seconds_count",
	"quire_http_request_duration_seconds_sum",
	"quire_http_requests_in_flight",
	"quire_http_requests_total",
	"quire_job_duration_seconds_bucket",
	"quire_job_duration_seconds_count",
	"quire_job_duration_seconds_sum",
	"quire_jobs_failed_total",
	"quire_jobs_processed_total",
	"quire_pipeline_stage_duration_seconds_bucket",
	"quire_pipeline_stage_duration_seconds_count",
	"quire_pipeline_stage_duration_seconds_sum",
	"quire_pipeline_stage_runs_total",
	"quire_process_busy_jobs",
	"quire_queue_dead_jobs",
	"quire_queue_failed_total",
	"quire_queue_latency_seconds",
	"quire_queue_paused",
	"quire_queue_processed_total",
	"quire_queue_ready_jobs",
	"quire_queue_retry_jobs",
	"quire_queue_running_jobs",
	"quire_queue_scheduled_jobs",
	"up",
}

// metricName finds the series names in a PromQL expression: identifiers of
// the families above followed by a selector, a range or the end of a call.
var metricName = regexp.MustCompile(`\b((?:quire|kube|process|go)_[a-z_]+|up)\s*[{\[)]`)

// TestMonitoringUsesServedMetrics checks the metric names of the alerting
// rules, the dashboard and the KEDA Prometheus trigger against
// knownMetrics.
func TestMonitoringUsesServedMetrics(t *testing.T) {
	t.Parallel()
	var exprs []string
	r := render(t, "overlays/gke")
	for _, o := range r.all("PrometheusRule") {
		for _, g := range o.Obj.(*monitoringv1.PrometheusRule).Spec.Groups {
			for _, rule := range g.Rules {
				require.NotEmpty(t, rule.Expr.String(), "%s rule %s", o, rule.Alert)
				exprs = append(exprs, rule.Expr.String())
			}
		}
	}
	for _, o := range r.all("ScaledObject") {
		for _, trig := range o.Obj.(*kedav1alpha1.ScaledObject).Spec.Triggers {
			if q := trig.Metadata["query"]; q != "" {
				exprs = append(exprs, q)
			}
		}
	}
	data, err := os.ReadFile("components/monitoring/quire-dashboard.json")
	require.NoError(t, err)
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dashboard))
	require.NotEmpty(t, dashboard.Panels)
	for _, p := range dashboard.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	var unknown []string
	for _, e := range exprs {
		names := metricName.FindAllStringSubmatch(e, -1)
		require.NotEmpty(t, names, "no metric found in %q", e)
		for _, m := range names {
			if !slices.Contains(knownMetrics, m[1]) {
				unknown = append(unknown, m[1])
			}
		}
	}
	sort.Strings(unknown)
	require.Empty(t, slices.Compact(unknown), "metrics that no known exporter serves")
}
