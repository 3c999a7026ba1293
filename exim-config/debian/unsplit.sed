# unsplit.sed - the MTA-STS fragments for Debian's unsplit configuration.
# The package installs the fragments under /etc/exim4/conf.d/ for both
# schemes; with dc_use_split_config='false' update-exim4.conf reads only
# /etc/exim4/exim4.conf.template, so they are included from there:
#
#   sed -i.before-mtasts -f /usr/share/doc/mtasts/examples/unsplit.sed \
#       /etc/exim4/exim4.conf.template
#
# then MTASTS_ENABLE = 1 in /etc/exim4/exim4.conf.localmacros,
# update-exim4.conf and a reload.  Each include lands after the end marker
# of the template's section it belongs to (main, acl, router before
# 200_exim4-config_primary, transport after remote_smtp).  Running it twice
# adds nothing.  A new template from a later exim4-config upgrade needs it
# again (dpkg asks about the changed conffile).
/^\.include_if_exists CONFDIR\/conf\.d\/[a-z]*\/[0-9]*_mtasts$/d
/^### end main\/90_exim4-config_log_selector$/a\
.include_if_exists CONFDIR/conf.d/main/05_mtasts
/^### end acl\/40_exim4-config_check_data$/a\
.include_if_exists CONFDIR/conf.d/acl/90_mtasts
/^### end router\/150_exim4-config_hubbed_hosts$/a\
.include_if_exists CONFDIR/conf.d/router/190_mtasts
/^### end transport\/30_exim4-config_remote_smtp$/a\
.include_if_exists CONFDIR/conf.d/transport/30_mtasts
