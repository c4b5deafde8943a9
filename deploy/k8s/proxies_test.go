package k8s

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// webHTTPPort is the web role's API and UI port (--http-addr :8080).
const webHTTPPort = 8080

// checkTrustedProxies: the web role is reached through the edge only (the
// Gateway's proxies, a cloud load balancer), so it must believe their
// X-Forwarded-For (--trusted-proxies), or every user shares the proxy's
// address in the sign-in limiter and the logs; and it must trust every
// address block a NetworkPolicy lets reach its HTTP port, since only the
// edge is let in.
func checkTrustedProxies(r *rendering) []error {
	var errs []error
	for _, w := range r.workloads() {
		for _, c := range containers(&w.template.Spec) {
			if role, _ := setting(r, w.Namespace, c, "role"); role != "web" {
				continue
			}
			v, _ := setting(r, w.Namespace, c, "trusted-proxies")
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("%s container %s: the web role sets no --trusted-proxies / QUIRE_TRUSTED_PROXIES: behind the edge every user would have the proxy's address", w, c.Name))
				continue
			}
			trusted, err := parseNetworks(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s container %s: --trusted-proxies: %w", w, c.Name, err))
				continue
			}
			for _, block := range webIPBlocks(r, w.Namespace, w.template.Labels) {
				p, err := netip.ParsePrefix(block)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: a NetworkPolicy's ipBlock %q: %w", w, block, err))
					continue
				}
				if !slices.ContainsFunc(trusted, func(t netip.Prefix) bool { return t.Bits() <= p.Bits() && t.Contains(p.Addr()) }) {
					errs = append(errs, fmt.Errorf("%s container %s: %s may reach the web port, but --trusted-proxies %q does not trust it", w, c.Name, block, v))
				}
			}
		}
	}
	return errs
}

// parseNetworks reads --trusted-proxies as the binary does: CIDRs or single
// addresses, comma-separated.
func parseNetworks(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a network nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// webIPBlocks returns the address blocks the NetworkPolicies of ns let reach
// the pods with podLabels on the web port.
func webIPBlocks(r *rendering, ns string, podLabels map[string]string) []string {
	var out []string
	for _, o := range r.all("NetworkPolicy") {
		p := o.Obj.(*networkingv1.NetworkPolicy).Spec
		if o.Namespace != ns || !slices.Contains(p.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&p.PodSelector)
		if err != nil || !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		for _, rule := range p.Ingress {
			if len(rule.Ports) > 0 && !slices.ContainsFunc(rule.Ports, func(pp networkingv1.NetworkPolicyPort) bool {
				return pp.Port == nil || pp.Port.IntVal == webHTTPPort || pp.Port.StrVal == "http"
			}) {
				continue
			}
			for _, peer := range rule.From {
				if peer.IPBlock != nil {
					out = append(out, peer.IPBlock.CIDR)
				}
			}
		}
	}
	return out
}
