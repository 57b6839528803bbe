// Finding and binding the ivshmem device, against a fake sysfs tree, and the errors a user sees
// when something is missing.
#include "components/proxy/guest/pci_sysfs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace vtas::proxy {
namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vtas-sysfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ + "/bus/pci/devices");
  }
  void TearDown() override { fs::remove_all(root_); }

  void add_device(const std::string& address, const std::string& vendor, const std::string& device) {
    std::string dir = root_ + "/bus/pci/devices/" + address;
    fs::create_directories(dir);
    std::ofstream(dir + "/vendor") << vendor << "\n";
    std::ofstream(dir + "/device") << device << "\n";
    std::ofstream(dir + "/driver_override") << "(null)\n";
  }

  std::string root_;
};

TEST_F(FakeSysfs, FindsTheIvshmemDeviceAmongOthers) {
  add_device("0000:00:01.0", "0x8086", "0x29c0");
  add_device("0000:00:03.0", "0x1af4", "0x1110");
  add_device("0000:00:02.0", "0x1af4", "0x1000");  // virtio-net: same vendor, other device
  PciSysfs sysfs(root_);
  auto found = sysfs.find_ivshmem();
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, "0000:00:03.0");
  EXPECT_TRUE(sysfs.find_ivshmem("0000:00:03.0"));
  auto wrong = sysfs.find_ivshmem("0000:00:02.0");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("not an ivshmem device"), std::string::npos);
}

TEST_F(FakeSysfs, NoDeviceSaysHowToStartQemu) {
  add_device("0000:00:01.0", "0x8086", "0x29c0");
  auto found = PciSysfs(root_).find_ivshmem();
  ASSERT_FALSE(found);
  EXPECT_NE(found.error().message.find("ivshmem-doorbell,vectors=1"), std::string::npos) << found.error().message;
}

TEST_F(FakeSysfs, MissingVfioPciDriverSaysModprobe) {
  add_device("0000:00:03.0", "0x1af4", "0x1110");
  Status s = PciSysfs(root_).bind_vfio_pci("0000:00:03.0");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("modprobe vfio-pci"), std::string::npos) << s.error().message;
}

TEST_F(FakeSysfs, ABindThatDoesNotTakeExplainsTheIommu) {
  add_device("0000:00:03.0", "0x1af4", "0x1110");
  fs::create_directories(root_ + "/bus/pci/drivers/vfio-pci");
  std::ofstream(root_ + "/bus/pci/drivers_probe") << "";
  Status s = PciSysfs(root_).bind_vfio_pci("0000:00:03.0");
  ASSERT_FALSE(s);  // nothing binds in a fake tree
  EXPECT_NE(s.error().message.find("intel-iommu"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("enable_unsafe_noiommu_mode"), std::string::npos) << s.error().message;
  // driver_override was set on the way.
  std::ifstream in(root_ + "/bus/pci/devices/0000:00:03.0/driver_override");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.substr(0, 8), "vfio-pci");
}

TEST_F(FakeSysfs, AlreadyBoundIsFineAndTheGroupIsRead) {
  add_device("0000:00:03.0", "0x1af4", "0x1110");
  fs::create_directories(root_ + "/bus/pci/drivers/vfio-pci");
  fs::create_directories(root_ + "/kernel/iommu_groups/5");
  fs::create_directory_symlink(root_ + "/bus/pci/drivers/vfio-pci", root_ + "/bus/pci/devices/0000:00:03.0/driver");
  fs::create_directory_symlink(root_ + "/kernel/iommu_groups/5", root_ + "/bus/pci/devices/0000:00:03.0/iommu_group");
  PciSysfs sysfs(root_);
  EXPECT_TRUE(sysfs.bind_vfio_pci("0000:00:03.0"));
  auto group = sysfs.iommu_group("0000:00:03.0");
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(*group, "5");
}

}  // namespace
}  // namespace vtas::proxy
