# contrib/: integrations (Prometheus rules, Grafana dashboard, Zabbix agent 2 and template,
# systemd unit, example configuration) and their tests in tests/contrib/; debian/ packaging.
#
# make install puts: the unit in $(systemdsystemunitdir), the example configuration as
# $(sysconfdir)/flowmedic.conf (only when there is none), the Zabbix helper in
# $(pkglibexecdir), and the rules, dashboard, Zabbix template and agent configuration under
# $(pkgdatadir) to copy from.
FM_STATEDIR = /var/lib/flowmedic
fm_subst = sed -e 's|@FM_BINDIR@|$(bindir)|g' -e 's|@FM_SYSCONFDIR@|$(sysconfdir)|g' \
	-e 's|@FM_LIBEXECDIR@|$(pkglibexecdir)|g' -e 's|@FM_STATEDIR@|$(FM_STATEDIR)|g'

contrib/systemd/flowmedic@.service: $(srcdir)/contrib/systemd/flowmedic@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && $(fm_subst) $(srcdir)/contrib/systemd/flowmedic@.service.in >$@.tmp && mv $@.tmp $@
contrib/zabbix/flowmedic.conf: $(srcdir)/contrib/zabbix/flowmedic.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/zabbix && $(fm_subst) $(srcdir)/contrib/zabbix/flowmedic.conf.in >$@.tmp && mv $@.tmp $@
CLEANFILES += contrib/systemd/flowmedic@.service contrib/zabbix/flowmedic.conf

if SYSTEMD_UNIT
systemdsystemunit_DATA = contrib/systemd/flowmedic@.service
endif
dist_pkglibexec_SCRIPTS = contrib/zabbix/flowmedic-zabbix
fmprometheusdir = $(pkgdatadir)/prometheus
dist_fmprometheus_DATA = contrib/prometheus/flowmedic-rules.yml
fmgrafanadir = $(pkgdatadir)/grafana
dist_fmgrafana_DATA = contrib/grafana/flowmedic-dashboard.json
fmzabbixdir = $(pkgdatadir)/zabbix
dist_fmzabbix_DATA = contrib/zabbix/flowmedic-template.yaml
fmzabbix_DATA = contrib/zabbix/flowmedic.conf
fmexampledir = $(pkgdatadir)/examples
dist_fmexample_DATA = contrib/flowmedic.conf

# The example configuration becomes $(sysconfdir)/flowmedic.conf unless one exists; uninstall
# removes it only while it is still the unchanged example.
install-data-hook:
	@if test -f "$(DESTDIR)$(sysconfdir)/flowmedic.conf"; then \
		echo "keeping $(DESTDIR)$(sysconfdir)/flowmedic.conf"; \
	else \
		$(MKDIR_P) "$(DESTDIR)$(sysconfdir)" && \
		$(INSTALL_DATA) $(srcdir)/contrib/flowmedic.conf "$(DESTDIR)$(sysconfdir)/flowmedic.conf"; \
	fi
uninstall-hook:
	@if cmp -s $(srcdir)/contrib/flowmedic.conf "$(DESTDIR)$(sysconfdir)/flowmedic.conf"; then \
		rm -f "$(DESTDIR)$(sysconfdir)/flowmedic.conf"; \
	fi

# distcheck installs under its own prefix: the unit too.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-systemdsystemunitdir='$${dc_install_base}/lib/systemd/system'

TESTS += tests/contrib/prometheus.sh tests/contrib/alerting.sh tests/contrib/grafana.sh \
	tests/contrib/zabbix.sh tests/contrib/systemd.sh
EXTRA_DIST += contrib/local.mk \
	tests/contrib/prometheus.sh tests/contrib/prometheus_test.yml tests/contrib/alerting.sh \
	tests/contrib/webhook.py \
	tests/contrib/grafana.sh tests/contrib/grafana_check.py \
	contrib/zabbix/flowmedic.conf.in tests/contrib/zabbix.sh tests/contrib/zabbix_check.py \
	contrib/systemd/flowmedic@.service.in tests/contrib/systemd.sh \
	debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/flowmedic.postinst debian/flowmedic.postrm tests/contrib/deb.sh

# make check-deb: build the .deb from the release tarball, install, run, purge (root; minutes).
check-deb: dist-gzip
	top_srcdir='$(abs_top_srcdir)' TARBALL='$(abs_top_builddir)/$(distdir).tar.gz' \
		$(SHELL) $(srcdir)/tests/contrib/deb.sh
.PHONY: check-deb
