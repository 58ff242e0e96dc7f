# contrib/: integrations (Prometheus rules, Grafana dashboard, Zabbix agent 2 and template,
# systemd unit, example configuration) and their tests in tests/contrib/; debian/ packaging.
TESTS += tests/contrib/prometheus.sh tests/contrib/alerting.sh tests/contrib/grafana.sh \
	tests/contrib/zabbix.sh
EXTRA_DIST += contrib/local.mk contrib/prometheus/flowmedic-rules.yml \
	tests/contrib/prometheus.sh tests/contrib/prometheus_test.yml tests/contrib/alerting.sh \
	tests/contrib/netns-lock.sh tests/contrib/webhook.py \
	contrib/grafana/flowmedic-dashboard.json tests/contrib/grafana.sh tests/contrib/grafana_check.py \
	contrib/zabbix/flowmedic-zabbix contrib/zabbix/flowmedic.conf.in contrib/zabbix/flowmedic-template.yaml \
	tests/contrib/zabbix.sh tests/contrib/zabbix_check.py
