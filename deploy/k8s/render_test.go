package k8s

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kinds maps every apiVersion and kind that Quire's manifests may contain to
// the Go type it is decoded into. A kind missing here fails the test rather
// than going unchecked.
var kinds = map[string]func() any{
	"v1 ConfigMap":                            func() any { return new(corev1.ConfigMap) },
	"v1 Namespace":                            func() any { return new(corev1.Namespace) },
	"v1 PersistentVolumeClaim":                func() any { return new(corev1.PersistentVolumeClaim) },
	"v1 Secret":                               func() any { return new(corev1.Secret) },
	"v1 Service":                              func() any { return new(corev1.Service) },
	"v1 ServiceAccount":                       func() any { return new(corev1.ServiceAccount) },
	"apps/v1 Deployment":                      func() any { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet":                     func() any { return new(appsv1.StatefulSet) },
	"autoscaling/v2 HorizontalPodAutoscaler":  func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"batch/v1 Job":                            func() any { return new(batchv1.Job) },
	"cert-manager.io/v1 Certificate":          func() any { return new(certmanagerv1.Certificate) },
	"cert-manager.io/v1 Issuer":               func() any { return new(certmanagerv1.Issuer) },
	"gateway.networking.k8s.io/v1 Gateway":    func() any { return new(gatewayv1.Gateway) },
	"gateway.networking.k8s.io/v1 HTTPRoute":  func() any { return new(gatewayv1.HTTPRoute) },
	"keda.sh/v1alpha1 ScaledObject":           func() any { return new(kedav1alpha1.ScaledObject) },
	"monitoring.coreos.com/v1 PrometheusRule": func() any { return new(monitoringv1.PrometheusRule) },
	"monitoring.coreos.com/v1 ServiceMonitor": func() any { return new(monitoringv1.ServiceMonitor) },
	"networking.gke.io/v1 HealthCheckPolicy":  func() any { return new(healthCheckPolicy) },
	"networking.k8s.io/v1 NetworkPolicy":      func() any { return new(networkingv1.NetworkPolicy) },
	"policy/v1 PodDisruptionBudget":           func() any { return new(policyv1.PodDisruptionBudget) },
}

// healthCheckPolicy mirrors GKE's HealthCheckPolicy (networking.gke.io/v1)
// as far as overlays/gke uses it: Google publishes the CRD's schema but no
// Go module of its types. Fields Quire does not use are left out on
// purpose, so that strict decoding rejects them until they are added here
// from the CRD's schema.
type healthCheckPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Default struct {
			CheckIntervalSec   *int32 `json:"checkIntervalSec,omitempty"`
			TimeoutSec         *int32 `json:"timeoutSec,omitempty"`
			HealthyThreshold   *int32 `json:"healthyThreshold,omitempty"`
			UnhealthyThreshold *int32 `json:"unhealthyThreshold,omitempty"`
			Config             struct {
				Type            string `json:"type"`
				HTTPHealthCheck *struct {
					Port        *int32 `json:"port,omitempty"`
					PortName    string `json:"portName,omitempty"`
					RequestPath string `json:"requestPath,omitempty"`
				} `json:"httpHealthCheck,omitempty"`
			} `json:"config"`
		} `json:"default"`
		TargetRef gatewayv1.LocalPolicyTargetReference `json:"targetRef"`
	} `json:"spec"`
}

// object is one rendered object, decoded.
type object struct {
	Kind      string
	Namespace string
	Name      string
	// Obj points to the Go type of kinds.
	Obj any
}

func (o object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// rendering is what one kustomization renders to.
type rendering struct {
	// Dir is the kustomization's directory, relative to this package.
	Dir  string
	Objs []object
}

// all returns the objects of kind.
func (r *rendering) all(kind string) []object {
	var out []object
	for _, o := range r.Objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of kind in namespace ns named name.
func (r *rendering) find(kind, ns, name string) (object, bool) {
	for _, o := range r.Objs {
		if o.Kind == kind && o.Namespace == ns && o.Name == name {
			return o, true
		}
	}
	return object{}, false
}

// remove drops the object of kind in ns named name; tests of the checks use
// it to break a rendering.
func (r *rendering) remove(kind, ns, name string) {
	r.Objs = slices.DeleteFunc(r.Objs, func(o object) bool {
		return o.Kind == kind && o.Namespace == ns && o.Name == name
	})
}

// kustomizations lists every directory whose rendering is checked: the base
// and each overlay.
func kustomizations(t testing.TB) []string {
	t.Helper()
	overlays, err := filepath.Glob("overlays/*/kustomization.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, overlays, "no overlays found")
	dirs := []string{"base"}
	for _, o := range overlays {
		dirs = append(dirs, filepath.Dir(o))
	}
	sort.Strings(dirs)
	return dirs
}

// render builds dir with the Kustomize API, from the files on disk as
// `kubectl apply -k` would, and decodes every object strictly.
func render(t testing.TB, dir string) *rendering {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "render %s", dir)
	r := &rendering{Dir: dir}
	var errs []error
	for _, res := range m.Resources() {
		data, err := res.MarshalJSON()
		require.NoError(t, err)
		obj, err := decodeStrict(res.GetApiVersion(), res.GetKind(), data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", res.GetKind(), res.GetName(), err))
			continue
		}
		r.Objs = append(r.Objs, object{Kind: res.GetKind(), Namespace: res.GetNamespace(), Name: res.GetName(), Obj: obj})
	}
	require.NoError(t, errors.Join(errs...), "decode %s", dir)
	return r
}

// decodeStrict decodes data into the Go type of apiVersion and kind,
// failing on any field the type does not have, on a field whose name
// differs only in case (encoding/json would accept it), and on a field given
// twice: a misspelt field is otherwise dropped without a word by the API
// server or the controller.
func decodeStrict(apiVersion, kind string, data []byte) (any, error) {
	newObj, ok := kinds[apiVersion+" "+kind]
	if !ok {
		return nil, fmt.Errorf("no Go type is known for %s %s: add it to kinds so that it is checked", apiVersion, kind)
	}
	obj := newObj()
	strict, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	return obj, nil
}
