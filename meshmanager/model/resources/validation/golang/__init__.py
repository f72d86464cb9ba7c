"""Go library behaviour that Kuma's validators rely on (strconv, time, net, net/url,
regexp, net/http, govalidator and Kubernetes' validation helpers), rewritten so that we
accept and reject the same strings and report the same errors."""
