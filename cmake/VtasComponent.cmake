# One helper adds a component: its library, its warnings, and its unit tests.
#
#   vtas_add_component(NAME conn
#     SOURCES conn_actor.cc listener_table.cc
#     DEPS vtas_runtime
#     TESTS conn_actor_test.cc            # GoogleTest files next to the sources
#     TEST_LABELS unit)                   # default label: unit
#
# Creates the static library `vtas_<NAME>` (include root: the component folder and the
# project root) and one test executable `<NAME>_test` registered with CTest.
# Protos are shared by every component through `vtas_proto` (the envelope imports all of
# them), so a component names no proto files of its own: add it under proto/ instead.

function(vtas_target_defaults target)
  target_compile_options(${target} PRIVATE ${VTAS_WARNINGS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
endfunction()

function(vtas_add_component)
  cmake_parse_arguments(C "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS;TESTS;TEST_DEPS;TEST_LABELS" ${ARGN})
  set(lib vtas_${C_NAME})
  add_library(${lib} STATIC ${C_SOURCES})
  vtas_target_defaults(${lib})
  target_link_libraries(${lib} PUBLIC ${C_DEPS} PRIVATE ${C_PRIVATE_DEPS})
  if(C_TESTS AND VTAS_BUILD_TESTS)
    if(NOT C_TEST_LABELS)
      set(C_TEST_LABELS unit)
    endif()
    vtas_add_test(NAME ${C_NAME}_test SOURCES ${C_TESTS} DEPS ${lib} ${C_TEST_DEPS}
                  LABELS ${C_TEST_LABELS})
  endif()
endfunction()

# A GoogleTest executable registered with CTest, one CTest entry per test case so the
# summary shows which case failed.
function(vtas_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  vtas_target_defaults(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if("unit" IN_LIST T_LABELS)
    add_dependencies(unit_tests ${T_NAME})
  endif()
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# An executable built from our sources with the project's warnings.
function(vtas_add_executable)
  cmake_parse_arguments(E "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${E_NAME} ${E_SOURCES})
  vtas_target_defaults(${E_NAME})
  target_link_libraries(${E_NAME} PRIVATE ${E_DEPS})
endfunction()
