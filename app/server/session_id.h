// sam3.cpp — session ids: 128 bits from the kernel's CSPRNG (getrandom), as 32 lower-case hex digits. A session id
// is the only thing that lets a client reach a session, so it must not be predictable from ids seen before (a
// seeded std::mt19937_64 is: 312 outputs give its whole state).
#pragma once
#include <string>

namespace sam3::server {

std::string random_session_id();  // throws std::runtime_error if the kernel gives no random bytes

}  // namespace sam3::server
