// Attaching to the service (flextcp_init, vtas_fini) and creating contexts: the happy path,
// where the library looks for the socket, and each refusal with the errno and message an
// application (or its operator) gets.
#include "clientlib/src/attach.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <string>

#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

using AttachTest = RuntimeDirTest;

bool contains(const char* text, const std::string& part) {
  return std::string(text).find(part) != std::string::npos;
}

TEST_F(AttachTest, AttachesAndCreatesAContextOnTheFakeService) {
  start_service();
  ASSERT_EQ(flextcp_init(), 0) << vtas_last_error();
  EXPECT_EQ(flextcp_init(), 0) << "a second init is a no-op";
  flextcp_context ctx{};
  ASSERT_EQ(flextcp_context_create(&ctx), 0) << vtas_last_error();
  EXPECT_EQ(ctx.ctx_id, 0);
  EXPECT_EQ(ctx.num_queues, 2);
  EXPECT_GE(flextcp_context_waitfd(&ctx), 0);
  EXPECT_EQ(flextcp_context_waitfd(&ctx), ctx.evfd);
  ASSERT_NE(service_->context(0), nullptr);
  EXPECT_TRUE(service_->attached());
  EXPECT_EQ(vtas_context_destroy(&ctx), 0);
}

TEST_F(AttachTest, SocketPathComesFromTheEnvironment) {
  EXPECT_EQ(attach_socket_path(), dir_ + "/app.sock");
  ::unsetenv("VTAS_RUNTIME_DIR");
  ::setenv("VTAS_INSTANCE", "blue", 1);
  EXPECT_EQ(attach_socket_path(), "/run/vtas/blue/app.sock");
  ::unsetenv("VTAS_INSTANCE");
  EXPECT_EQ(attach_socket_path(), "/run/vtas/vtas/app.sock");
  ::setenv("VTAS_RUNTIME_DIR", dir_.c_str(), 1);
}

TEST_F(AttachTest, MissingSocketMeansServiceNotRunning) {
  errno = 0;
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_TRUE(contains(vtas_last_error(), "service not running")) << vtas_last_error();
  EXPECT_TRUE(contains(vtas_last_error(), dir_ + "/app.sock")) << vtas_last_error();
  EXPECT_EQ(Attachment::current(), nullptr);
}

TEST_F(AttachTest, ContextBeforeInitFails) {
  flextcp_context ctx{};
  EXPECT_EQ(flextcp_context_create(&ctx), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_TRUE(contains(vtas_last_error(), "flextcp_init")) << vtas_last_error();
}

TEST_F(AttachTest, WrongAttachProtocolVersionIsAVersionMismatch) {
  FakeServiceOptions options;
  options.attach_version = abi::kAttachVersion + 1;
  start_service(options);
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, EPROTO);
  EXPECT_TRUE(contains(vtas_last_error(), "version mismatch")) << vtas_last_error();
}

TEST_F(AttachTest, ServiceRefusingTheProtocolIsAVersionMismatch) {
  FakeServiceOptions options;
  options.attach_status = -EPROTO;
  options.attach_error = "attach protocol version mismatch";
  start_service(options);
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, EPROTO);
  EXPECT_TRUE(contains(vtas_last_error(), "version mismatch")) << vtas_last_error();
}

TEST_F(AttachTest, ServiceRefusingTheUserIsPermissionDenied) {
  FakeServiceOptions options;
  options.attach_status = -EACCES;
  options.attach_error = "uid 1234 may not attach";
  start_service(options);
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, EACCES);
  EXPECT_TRUE(contains(vtas_last_error(), "permission denied")) << vtas_last_error();
  EXPECT_TRUE(contains(vtas_last_error(), "uid 1234")) << vtas_last_error();
}

TEST_F(AttachTest, RegionLayoutVersionMismatchIsRefused) {
  FakeServiceOptions options;
  options.layout_version = abi::kAppLayoutVersion + 7;
  start_service(options);
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, EPROTO);
  EXPECT_TRUE(contains(vtas_last_error(), "layout version")) << vtas_last_error();
  EXPECT_EQ(Attachment::current(), nullptr);
}

TEST_F(AttachTest, MissingDoorbellDescriptorsAreRefused) {
  FakeServiceOptions options;
  options.fds_missing = 1;
  start_service(options);
  EXPECT_EQ(flextcp_init(), -1);
  EXPECT_EQ(errno, EPROTO);
  EXPECT_TRUE(contains(vtas_last_error(), "descriptors")) << vtas_last_error();
}

TEST_F(AttachTest, RefusedContextReportsTheServicesErrno) {
  FakeServiceOptions options;
  options.context_status = -ENOSPC;
  start_service(options);
  ASSERT_EQ(flextcp_init(), 0) << vtas_last_error();
  flextcp_context ctx{};
  EXPECT_EQ(flextcp_context_create(&ctx), -1);
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(ctx.vtas_impl, nullptr);
  EXPECT_EQ(flextcp_context_poll(&ctx, 1, nullptr), -1) << "an uncreated context is refused";
}

TEST_F(AttachTest, FiniDetachesAndInitAttachesAgain) {
  start_service();
  ASSERT_EQ(flextcp_init(), 0) << vtas_last_error();
  flextcp_context ctx{};
  ASSERT_EQ(flextcp_context_create(&ctx), 0) << vtas_last_error();
  EXPECT_EQ(vtas_fini(), -1) << "a live context keeps the attachment";
  EXPECT_EQ(errno, EBUSY);
  ASSERT_EQ(vtas_context_destroy(&ctx), 0);
  ASSERT_EQ(vtas_fini(), 0) << vtas_last_error();
  EXPECT_TRUE(service_->wait_detached(5000)) << "the service saw the socket close";
  ASSERT_EQ(flextcp_init(), 0) << vtas_last_error();
  ASSERT_EQ(flextcp_context_create(&ctx), 0) << vtas_last_error();
  EXPECT_EQ(vtas_context_destroy(&ctx), 0);
}

}  // namespace
}  // namespace vtas::client::testing
