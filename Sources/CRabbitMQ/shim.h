#ifndef BOTYARD_CRABBITMQ_SHIM_H
#define BOTYARD_CRABBITMQ_SHIM_H

// Debian's rabbitmq-c 0.11 installs its headers at the top of the include folder;
// 0.12 and later moved them into a rabbitmq-c/ folder.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/ssl_socket.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#endif

#include <poll.h>
#include <sys/eventfd.h>

/// `amqp_login_with_properties` is variadic, which Swift cannot call: this fixes it to SASL
/// PLAIN. The properties carry the connection name that the management UI shows.
static inline amqp_rpc_reply_t botyard_amqp_login_plain(
    amqp_connection_state_t state, const char *vhost, int channel_max, int frame_max,
    int heartbeat, const amqp_table_t *properties, const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
