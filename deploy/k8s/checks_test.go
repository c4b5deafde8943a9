package k8s

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Numbers of DESIGN.md's shutdown invariant.
const (
	// shutdownSlack is what terminationGracePeriodSeconds must leave beyond
	// the preStop hook and the job shutdown timeout.
	shutdownSlack = 10 * time.Second
	// gracePeriodDefault is Kubernetes' grace period when a pod gives none.
	gracePeriodDefault = 30 * time.Second
)

// redisPrefixDefault is the binary's --redis-prefix default
// (jobs/redisdriver.PrefixDefault): every key of a queue starts with it.
const redisPrefixDefault = "quire"

// externalSecrets are the Secrets an overlay may reference without
// rendering them: they hold passwords, so they are made in the cluster from
// a secret store (docs/operations.md, "Rotate secrets").
var externalSecrets = map[string]bool{"quire-postgres": true}

// check is one invariant over a rendering; it returns every violation.
type check struct {
	name string
	fn   func(r *rendering) []error
}

// checks are the invariants every rendering must hold.
var checks = []check{
	{"autoscaling", checkAutoscaling},
	{"deploy order", checkDeployOrder},
	{"exposure", checkExposure},
	{"images", checkImages},
	{"memory budget", checkMemoryBudget},
	{"network policies", checkNetworkPolicies},
	{"network allows", checkNetworkAllows},
	{"probes and resources", checkProbesAndResources},
	{"disruption budgets", checkDisruptionBudgets},
	{"references", checkReferences},
	{"rolling updates", checkRollingUpdates},
	{"security", checkSecurity},
	{"shutdown", checkShutdown},
	{"trusted proxies", checkTrustedProxies},
}

// runChecks returns every violation of every check in r.
func runChecks(r *rendering) []error {
	var errs []error
	for _, c := range checks {
		for _, err := range c.fn(r) {
			errs = append(errs, fmt.Errorf("%s: %s: %w", r.Dir, c.name, err))
		}
	}
	return errs
}

// workload is an object that runs pods.
type workload struct {
	object
	template *corev1.PodTemplateSpec
	// replicas is nil when the spec leaves them to an autoscaler.
	replicas *int32
	// longRunning is false for Jobs, which need no probes or budget.
	longRunning bool
}

func (r *rendering) workloads() []workload {
	var out []workload
	for _, o := range r.Objs {
		switch v := o.Obj.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{o, &v.Spec.Template, v.Spec.Replicas, true})
		case *appsv1.StatefulSet:
			out = append(out, workload{o, &v.Spec.Template, v.Spec.Replicas, true})
		case *batchv1.Job:
			out = append(out, workload{o, &v.Spec.Template, nil, false})
		}
	}
	return out
}

// containers returns the containers and init containers of a pod.
func containers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}

// checkProbesAndResources: every long-running container has a startup, a
// readiness and a liveness probe; every container requests CPU and memory
// and bounds its memory.
func checkProbesAndResources(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		for _, c := range w.template.Spec.Containers {
			if w.longRunning {
				for probe, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
					if p == nil {
						errs = append(errs, fmt.Errorf("%s container %s has no %s probe", w, c.Name, probe))
					}
				}
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Requests[res]; !ok || q.IsZero() {
					errs = append(errs, fmt.Errorf("%s container %s requests no %s", w, c.Name, res))
				}
			}
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
				errs = append(errs, fmt.Errorf("%s container %s has no memory limit", w, c.Name))
			}
		}
	}
	return errs
}

// afterMigrate marks the objects that docs/operations.md applies only once
// the migration Job has completed: every Deployment, so that no pod of a
// release starts on the schema of the one before.
const afterMigrate = "quire.dev/after-migrate"

// checkDeployOrder: every Deployment carries afterMigrate and nothing the
// migration needs (its Job, ConfigMaps, ServiceAccount, NetworkPolicies)
// does, so that `kubectl apply -l quire.dev/after-migrate!=true` applies
// everything the Job needs and no new pod.
func checkDeployOrder(r *rendering) []error {
	var errs []error
	for _, o := range r.Objs {
		var l map[string]string
		if m, ok := o.Obj.(interface{ GetLabels() map[string]string }); ok {
			l = m.GetLabels()
		}
		switch {
		case o.Kind == "Deployment" && l[afterMigrate] != "true":
			errs = append(errs, fmt.Errorf("%s lacks label %s=true: it would start before the migration", o, afterMigrate))
		case o.Kind != "Deployment" && l[afterMigrate] != "":
			errs = append(errs, fmt.Errorf("%s has label %s: only Deployments wait for the migration", o, afterMigrate))
		}
	}
	return errs
}

// checkRollingUpdates: a Deployment replaces pods one by one and never goes
// below its size: the new pod is ready before the old one stops.
func checkRollingUpdates(r *rendering) []error {
	var errs []error
	for _, o := range r.all("Deployment") {
		d := o.Obj.(*appsv1.Deployment)
		s := d.Spec.Strategy
		switch {
		case s.Type != appsv1.RollingUpdateDeploymentStrategyType:
			errs = append(errs, fmt.Errorf("%s has strategy %q, not RollingUpdate", o, s.Type))
		case s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil:
			errs = append(errs, fmt.Errorf("%s leaves maxUnavailable to its default (25%%), not 0", o))
		case !isZero(*s.RollingUpdate.MaxUnavailable):
			errs = append(errs, fmt.Errorf("%s has maxUnavailable %s, not 0", o, s.RollingUpdate.MaxUnavailable))
		}
	}
	return errs
}

// checkDisruptionBudgets: every long-running workload is covered by exactly
// one PodDisruptionBudget (the eviction API refuses pods with two), and the
// budget allows at least one disruption so that it never blocks a node
// drain for good.
func checkDisruptionBudgets(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		if !w.longRunning {
			continue
		}
		var matching []*policyv1.PodDisruptionBudget
		for _, o := range r.all("PodDisruptionBudget") {
			pdb := o.Obj.(*policyv1.PodDisruptionBudget)
			if o.Namespace == w.Namespace && selects(pdb.Spec.Selector, w.template.Labels) {
				matching = append(matching, pdb)
			}
		}
		if len(matching) != 1 {
			errs = append(errs, fmt.Errorf("%s is covered by %d PodDisruptionBudgets, not 1", w, len(matching)))
			continue
		}
		pdb := matching[0]
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			if v := pdb.Spec.MaxUnavailable; isZero(*v) {
				errs = append(errs, fmt.Errorf("%s: PodDisruptionBudget %s has maxUnavailable %s: no pod could ever be evicted", w, pdb.Name, v))
			}
		case pdb.Spec.MinAvailable != nil:
			min := pdb.Spec.MinAvailable
			if min.Type != intstr.Int || w.replicas == nil || min.IntVal >= *w.replicas {
				errs = append(errs, fmt.Errorf("%s: PodDisruptionBudget %s has minAvailable %s for %s replicas: it may block every eviction; use maxUnavailable", w, pdb.Name, min, replicasText(w.replicas)))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: PodDisruptionBudget %s sets neither minAvailable nor maxUnavailable", w, pdb.Name))
		}
	}
	return errs
}

// isZero reports whether a count or percentage is zero. A percentage
// rounds as Kubernetes rounds it for the field, so only 0% is taken as zero.
func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return err != nil || n == 0
}

func replicasText(n *int32) string {
	if n == nil {
		return "autoscaled"
	}
	return strconv.Itoa(int(*n))
}

// selects reports whether sel matches a pod with podLabels. A nil or empty
// selector matches nothing here: no budget or Service of Quire's means
// "every pod".
func selects(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(podLabels))
}

// checkShutdown: DESIGN.md's invariant for every `quire serve` container,
// terminationGracePeriodSeconds ≥ preStop + job shutdown timeout + 10 s, so
// that the kubelet's SIGKILL never cuts a drain short. The timeout must be
// stated (--shutdown-timeout or QUIRE_SHUTDOWN_TIMEOUT), not left to the
// binary's default, so that this check sees what the pod runs.
func checkShutdown(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		spec := &w.template.Spec
		grace := gracePeriodDefault
		if spec.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
		}
		for _, c := range spec.Containers {
			if len(c.Args) == 0 || c.Args[0] != "serve" {
				continue
			}
			text, ok := setting(r, w.Namespace, &c, "shutdown-timeout")
			if !ok {
				errs = append(errs, fmt.Errorf("%s container %s states no shutdown timeout (--shutdown-timeout or QUIRE_SHUTDOWN_TIMEOUT)", w, c.Name))
				continue
			}
			timeout, err := time.ParseDuration(text)
			if err != nil || timeout <= 0 {
				errs = append(errs, fmt.Errorf("%s container %s: shutdown timeout %q is not a positive duration: no grace period can cover it", w, c.Name, text))
				continue
			}
			preStop, err := preStopDuration(c.Lifecycle)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s container %s: %w", w, c.Name, err))
				continue
			}
			if need := preStop + timeout + shutdownSlack; grace < need {
				errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds %s < preStop %s + shutdown timeout %s + %s",
					w, grace, preStop, timeout, shutdownSlack))
			}
		}
	}
	return errs
}

// preStopDuration is how long a preStop hook delays SIGTERM: a sleep
// action, or an exec of sleep. Other hooks have no length this test can know.
func preStopDuration(l *corev1.Lifecycle) (time.Duration, error) {
	if l == nil || l.PreStop == nil {
		return 0, nil
	}
	h := l.PreStop
	switch {
	case h.Sleep != nil:
		return time.Duration(h.Sleep.Seconds) * time.Second, nil
	case h.Exec != nil:
		cmd := strings.Fields(strings.Join(h.Exec.Command, " "))
		if i := slices.Index(cmd, "sleep"); i >= 0 && i+1 < len(cmd) {
			if s, err := strconv.ParseFloat(strings.Trim(cmd[i+1], `"'`), 64); err == nil {
				return time.Duration(s * float64(time.Second)), nil
			}
		}
	}
	return 0, fmt.Errorf("preStop hook %+v: its length is unknown; use a sleep action", h)
}

// setting returns the value of a quire flag in container c: from its args
// (--name=value or --name value), else from QUIRE_NAME in its env or the
// ConfigMaps of its envFrom, as the binary reads them (config.go).
func setting(r *rendering, ns string, c *corev1.Container, flag string) (string, bool) {
	for i, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--"+flag+"="); ok {
			return v, true
		}
		if a == "--"+flag && i+1 < len(c.Args) {
			return c.Args[i+1], true
		}
	}
	return envValue(r, ns, c, "QUIRE_"+strings.ToUpper(strings.ReplaceAll(flag, "-", "_")))
}

// envValue returns the literal value of variable name in container c, from
// its env or the ConfigMaps of its envFrom (env wins, as in Kubernetes).
func envValue(r *rendering, ns string, c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	for _, src := range c.EnvFrom {
		if src.ConfigMapRef == nil {
			continue
		}
		if o, ok := r.find("ConfigMap", ns, src.ConfigMapRef.Name); ok {
			if v, ok := o.Obj.(*corev1.ConfigMap).Data[strings.TrimPrefix(name, src.Prefix)]; ok {
				return v, true
			}
		}
	}
	return "", false
}

// checkImages: every image names a tag or a digest, never latest, so that
// a rollout and a rollback run exactly what they say; and Quire's two
// images (quire, quire-ocr) are of one release, since every role shares the
// job and store formats.
func checkImages(r *rendering) []error {
	var errs []error
	releases := map[string][]string{}
	for _, w := range r.workloads() {
		for _, c := range containers(&w.template.Spec) {
			if err := pinned(c.Image); err != nil {
				errs = append(errs, fmt.Errorf("%s container %s: %w", w, c.Name, err))
				continue
			}
			repo, tag, _ := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":")
			if repo == "quire" || repo == "quire-ocr" {
				releases[tag] = append(releases[tag], w.String())
			}
		}
	}
	if len(releases) > 1 {
		errs = append(errs, fmt.Errorf("Quire's images are of %d releases: %v", len(releases), releases))
	}
	return errs
}

func pinned(image string) error {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		if !strings.HasPrefix(digest, "sha256:") {
			return fmt.Errorf("image %q: digest is not sha256", image)
		}
		return nil
	}
	// The tag follows the last colon after the last slash (a registry's
	// host:port has a colon before a slash).
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok || tag == "":
		return fmt.Errorf("image %q has no tag: it would run latest", image)
	case tag == "latest":
		return fmt.Errorf("image %q is latest: pin a release", image)
	}
	return nil
}

// checkExposure: nothing is reachable from outside the cluster but the
// Gateway, and the Gateway routes only to the web role.
func checkExposure(r *rendering) []error {
	var errs []error
	for _, o := range r.all("Service") {
		s := o.Obj.(*corev1.Service)
		if s.Spec.Type != "" && s.Spec.Type != corev1.ServiceTypeClusterIP {
			errs = append(errs, fmt.Errorf("%s is of type %s: only the Gateway is exposed", o, s.Spec.Type))
		}
		if len(s.Spec.ExternalIPs) > 0 {
			errs = append(errs, fmt.Errorf("%s has external IPs: only the Gateway is exposed", o))
		}
	}
	for _, w := range r.workloads() {
		spec := &w.template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			errs = append(errs, fmt.Errorf("%s shares the node's namespaces", w))
		}
		for _, c := range containers(spec) {
			for _, p := range c.Ports {
				if p.HostPort != 0 {
					errs = append(errs, fmt.Errorf("%s container %s binds host port %d", w, c.Name, p.HostPort))
				}
			}
		}
	}
	for _, o := range r.all("HTTPRoute") {
		route := o.Obj.(*gatewayv1.HTTPRoute)
		for _, rule := range route.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if b.Kind != nil && *b.Kind != "Service" {
					errs = append(errs, fmt.Errorf("%s routes to a %s", o, *b.Kind))
					continue
				}
				svc, ok := r.find("Service", o.Namespace, string(b.Name))
				if !ok {
					errs = append(errs, fmt.Errorf("%s routes to Service %s, which is not rendered", o, b.Name))
					continue
				}
				sel := svc.Obj.(*corev1.Service).Spec.Selector
				if sel["app.kubernetes.io/component"] != "web" {
					errs = append(errs, fmt.Errorf("%s routes to %s, which is not the web role: only the web role is exposed", o, svc))
				}
			}
		}
	}
	return errs
}

// checkNetworkPolicies: every namespace the rendering puts objects in has a
// policy that selects every pod and allows nothing, so that each flow must
// be allowed by name.
func checkNetworkPolicies(r *rendering) []error {
	namespaces := map[string]bool{}
	for _, o := range r.Objs {
		if o.Kind == "Namespace" {
			namespaces[o.Name] = true
		} else if o.Namespace != "" {
			namespaces[o.Namespace] = true
		}
	}
	denied := map[string]bool{}
	for _, o := range r.all("NetworkPolicy") {
		p := o.Obj.(*networkingv1.NetworkPolicy).Spec
		if len(p.PodSelector.MatchLabels) == 0 && len(p.PodSelector.MatchExpressions) == 0 &&
			slices.Contains(p.PolicyTypes, networkingv1.PolicyTypeIngress) &&
			slices.Contains(p.PolicyTypes, networkingv1.PolicyTypeEgress) &&
			len(p.Ingress) == 0 && len(p.Egress) == 0 {
			denied[o.Namespace] = true
		}
	}
	var errs []error
	for ns := range namespaces {
		if !denied[ns] {
			errs = append(errs, fmt.Errorf("namespace %s has no default-deny NetworkPolicy (every pod, Ingress and Egress, no rules)", ns))
		}
	}
	if len(namespaces) == 0 {
		errs = append(errs, fmt.Errorf("no namespace is set: objects would land in the caller's"))
	}
	return errs
}

// quireEgress are the ports every Quire pod must be allowed to reach past
// default-deny: DNS, Redis and PostgreSQL.
var quireEgress = []int32{53, 5432, 6379}

// checkNetworkAllows: default-deny leaves open what Quire needs. Every
// Service's pods accept traffic on its target ports from somewhere (or the
// Service would be dead), and every Quire pod may reach DNS, Redis and
// PostgreSQL.
func checkNetworkAllows(r *rendering) []error {
	var errs []error
	policies := r.all("NetworkPolicy")
	allows := func(ns string, podLabels map[string]string, typ networkingv1.PolicyType, port int32, portName string) bool {
		for _, o := range policies {
			p := o.Obj.(*networkingv1.NetworkPolicy).Spec
			if o.Namespace != ns || !slices.Contains(p.PolicyTypes, typ) {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&p.PodSelector)
			if err != nil || !sel.Matches(labels.Set(podLabels)) {
				continue
			}
			var rulePorts [][]networkingv1.NetworkPolicyPort
			if typ == networkingv1.PolicyTypeIngress {
				for _, rule := range p.Ingress {
					rulePorts = append(rulePorts, rule.Ports)
				}
			} else {
				for _, rule := range p.Egress {
					rulePorts = append(rulePorts, rule.Ports)
				}
			}
			for _, ports := range rulePorts {
				if len(ports) == 0 {
					return true
				}
				for _, pp := range ports {
					if pp.Port == nil || (pp.Port.Type == intstr.Int && pp.Port.IntVal == port) ||
						(pp.Port.Type == intstr.String && portName != "" && pp.Port.StrVal == portName) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, o := range r.all("Service") {
		svc := o.Obj.(*corev1.Service)
		for _, w := range r.workloads() {
			if w.Namespace != o.Namespace || len(svc.Spec.Selector) == 0 ||
				!labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.template.Labels)) {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				port, name := containerPort(&w.template.Spec, sp)
				if port == 0 {
					continue
				}
				if !allows(o.Namespace, w.template.Labels, networkingv1.PolicyTypeIngress, port, name) {
					errs = append(errs, fmt.Errorf("%s: no NetworkPolicy lets anything reach %s on port %d", o, w, port))
				}
			}
		}
	}
	for _, w := range r.workloads() {
		if w.template.Labels["app.kubernetes.io/name"] != "quire" {
			continue
		}
		for _, port := range quireEgress {
			if !allows(w.Namespace, w.template.Labels, networkingv1.PolicyTypeEgress, port, "") {
				errs = append(errs, fmt.Errorf("%s may not reach port %d: default-deny cuts it off", w, port))
			}
		}
	}
	return errs
}

// containerPort resolves a Service port's target to a container port of
// spec: its number and name, or 0 when no container has it (the pod is then
// not one of the Service's endpoints for that port).
func containerPort(spec *corev1.PodSpec, sp corev1.ServicePort) (int32, string) {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			switch {
			case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal == p.Name,
				sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == p.ContainerPort,
				sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == 0 && sp.Port == p.ContainerPort:
				return p.ContainerPort, p.Name
			}
		}
	}
	return 0, ""
}

// checkSecurity: pods run as a user other than root, cannot gain
// privileges, drop every capability and cannot write their root filesystem.
func checkSecurity(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		spec := &w.template.Spec
		podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
		for _, c := range containers(spec) {
			sc := c.SecurityContext
			if sc == nil {
				errs = append(errs, fmt.Errorf("%s container %s has no securityContext", w, c.Name))
				continue
			}
			if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
				errs = append(errs, fmt.Errorf("%s container %s may run as root", w, c.Name))
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s container %s can write its root filesystem", w, c.Name))
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				errs = append(errs, fmt.Errorf("%s container %s may escalate privileges", w, c.Name))
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				errs = append(errs, fmt.Errorf("%s container %s keeps Linux capabilities", w, c.Name))
			}
		}
	}
	return errs
}

// checkAutoscaling: autoscalers target rendered Deployments that leave
// replicas to them, and every Redis trigger watches a queue its workers
// serve, at an address KEDA's operator (in its own namespace) resolves to a
// rendered Service.
func checkAutoscaling(r *rendering) []error {
	var errs []error
	target := func(o object, name string) (*appsv1.Deployment, bool) {
		d, ok := r.find("Deployment", o.Namespace, name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s scales Deployment %s, which is not rendered", o, name))
			return nil, false
		}
		dep := d.Obj.(*appsv1.Deployment)
		if dep.Spec.Replicas != nil {
			errs = append(errs, fmt.Errorf("%s scales %s, which sets replicas: every kubectl apply would reset the autoscaler's choice", o, d))
		}
		return dep, true
	}
	for _, o := range r.all("HorizontalPodAutoscaler") {
		h := o.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if h.Spec.ScaleTargetRef.Kind != "Deployment" {
			errs = append(errs, fmt.Errorf("%s scales a %s", o, h.Spec.ScaleTargetRef.Kind))
			continue
		}
		target(o, h.Spec.ScaleTargetRef.Name)
	}
	listName := regexp.MustCompile(`^(.+):\{([^}]+)\}:ready$`)
	for _, o := range r.all("ScaledObject") {
		so := o.Obj.(*kedav1alpha1.ScaledObject)
		if so.Spec.ScaleTargetRef == nil {
			errs = append(errs, fmt.Errorf("%s has no scaleTargetRef", o))
			continue
		}
		if k := so.Spec.ScaleTargetRef.Kind; k != "" && k != "Deployment" {
			errs = append(errs, fmt.Errorf("%s scales a %s", o, k))
			continue
		}
		dep, ok := target(o, so.Spec.ScaleTargetRef.Name)
		if !ok {
			continue
		}
		c := &dep.Spec.Template.Spec.Containers[0]
		queuesText, ok := setting(r, o.Namespace, c, "queues")
		if !ok {
			queuesText = "default=1"
		}
		prefix, ok := setting(r, o.Namespace, c, "redis-prefix")
		if !ok {
			prefix = redisPrefixDefault
		}
		queues := map[string]bool{}
		for _, q := range strings.Split(queuesText, ",") {
			name, _, _ := strings.Cut(q, "=")
			queues[strings.TrimSpace(name)] = true
		}
		for _, trig := range so.Spec.Triggers {
			if trig.Type != "redis" {
				continue
			}
			m := listName.FindStringSubmatch(trig.Metadata["listName"])
			switch {
			case m == nil:
				errs = append(errs, fmt.Errorf("%s trigger %s: listName %q is not a queue's ready list (PREFIX:{QUEUE}:ready)", o, trig.Name, trig.Metadata["listName"]))
			case m[1] != prefix:
				errs = append(errs, fmt.Errorf("%s trigger %s watches keys under %q, but %s uses the Redis prefix %q", o, trig.Name, m[1], dep.Name, prefix))
			case !queues[m[2]]:
				errs = append(errs, fmt.Errorf("%s trigger %s watches queue %s, which %s does not serve (--queues %s)", o, trig.Name, m[2], dep.Name, queuesText))
			}
			addr := trig.Metadata["address"]
			if env := trig.Metadata["addressFromEnv"]; env != "" {
				v, ok := envValue(r, o.Namespace, c, env)
				if !ok {
					errs = append(errs, fmt.Errorf("%s trigger %s: %s is not set in %s's environment", o, trig.Name, env, dep.Name))
					continue
				}
				addr = v
			}
			if err := resolvesToService(r, addr); err != nil {
				errs = append(errs, fmt.Errorf("%s trigger %s: %w", o, trig.Name, err))
			}
		}
	}
	return errs
}

// resolvesToService checks that addr, a host:port that KEDA's operator
// dials from its own namespace, names a rendered Service by its full name.
func resolvesToService(r *rendering, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	parts := strings.Split(host, ".")
	if len(parts) < 3 || parts[2] != "svc" {
		return fmt.Errorf("address %q is not NAME.NAMESPACE.svc…: KEDA's operator runs in another namespace", addr)
	}
	o, ok := r.find("Service", parts[1], parts[0])
	if !ok {
		return fmt.Errorf("address %q names Service %s/%s, which is not rendered", addr, parts[1], parts[0])
	}
	for _, p := range o.Obj.(*corev1.Service).Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return nil
		}
	}
	return fmt.Errorf("address %q: %s has no port %s", addr, o, port)
}

// checkReferences: what objects name by reference is rendered (or, for
// password Secrets, made in the cluster), so that no pod waits forever for a
// missing ConfigMap and no Service or monitor selects nothing.
func checkReferences(r *rendering) []error {
	var errs []error
	missing := func(from fmt.Stringer, kind, ns, name string) {
		if _, ok := r.find(kind, ns, name); !ok {
			errs = append(errs, fmt.Errorf("%s refers to %s %s/%s, which is not rendered", from, kind, ns, name))
		}
	}
	secret := func(from fmt.Stringer, ns, name string) {
		if externalSecrets[name] {
			return
		}
		if _, ok := r.find("Secret", ns, name); ok {
			return
		}
		for _, o := range r.all("Certificate") {
			if o.Namespace == ns && o.Obj.(*certmanagerv1.Certificate).Spec.SecretName == name {
				return
			}
		}
		errs = append(errs, fmt.Errorf("%s refers to Secret %s/%s, which is neither rendered nor made by a Certificate", from, ns, name))
	}
	for _, w := range r.workloads() {
		spec := &w.template.Spec
		if spec.ServiceAccountName != "" {
			missing(w, "ServiceAccount", w.Namespace, spec.ServiceAccountName)
		}
		for _, v := range spec.Volumes {
			switch {
			case v.ConfigMap != nil:
				missing(w, "ConfigMap", w.Namespace, v.ConfigMap.Name)
			case v.PersistentVolumeClaim != nil:
				missing(w, "PersistentVolumeClaim", w.Namespace, v.PersistentVolumeClaim.ClaimName)
			case v.Secret != nil:
				secret(w, w.Namespace, v.Secret.SecretName)
			}
		}
		for _, c := range containers(spec) {
			for _, src := range c.EnvFrom {
				if src.ConfigMapRef != nil {
					missing(w, "ConfigMap", w.Namespace, src.ConfigMapRef.Name)
				}
				if src.SecretRef != nil {
					secret(w, w.Namespace, src.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
					missing(w, "ConfigMap", w.Namespace, ref.Name)
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					secret(w, w.Namespace, ref.Name)
				}
			}
		}
	}
	for _, o := range r.all("Service") {
		sel := o.Obj.(*corev1.Service).Spec.Selector
		if !slices.ContainsFunc(r.workloads(), func(w workload) bool {
			return w.Namespace == o.Namespace && len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.template.Labels))
		}) {
			errs = append(errs, fmt.Errorf("%s selects no rendered workload", o))
		}
	}
	for _, o := range r.all("ServiceMonitor") {
		sm := o.Obj.(*monitoringv1.ServiceMonitor)
		found := false
		for _, s := range r.all("Service") {
			if s.Namespace == o.Namespace && selects(&sm.Spec.Selector, s.Obj.(*corev1.Service).Labels) {
				found = true
				for _, ep := range sm.Spec.Endpoints {
					if !slices.ContainsFunc(s.Obj.(*corev1.Service).Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
						errs = append(errs, fmt.Errorf("%s scrapes port %q, which %s does not have", o, ep.Port, s))
					}
				}
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s selects no rendered Service", o))
		}
	}
	for _, o := range r.all("HTTPRoute") {
		for _, p := range o.Obj.(*gatewayv1.HTTPRoute).Spec.ParentRefs {
			g, ok := r.find("Gateway", o.Namespace, string(p.Name))
			if !ok {
				errs = append(errs, fmt.Errorf("%s attaches to Gateway %s, which is not rendered", o, p.Name))
				continue
			}
			if p.SectionName != nil && !slices.ContainsFunc(g.Obj.(*gatewayv1.Gateway).Spec.Listeners, func(l gatewayv1.Listener) bool {
				return l.Name == *p.SectionName
			}) {
				errs = append(errs, fmt.Errorf("%s attaches to listener %s, which %s does not have", o, *p.SectionName, g))
			}
		}
	}
	for _, o := range r.all("Gateway") {
		for _, l := range o.Obj.(*gatewayv1.Gateway).Spec.Listeners {
			if l.TLS == nil {
				continue
			}
			for _, ref := range l.TLS.CertificateRefs {
				secret(o, o.Namespace, string(ref.Name))
			}
		}
	}
	for _, o := range r.all("Certificate") {
		ref := o.Obj.(*certmanagerv1.Certificate).Spec.IssuerRef
		if ref.Kind == "" || ref.Kind == "Issuer" {
			missing(o, "Issuer", o.Namespace, ref.Name)
		}
	}
	return errs
}
