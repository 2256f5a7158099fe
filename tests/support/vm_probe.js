// ProbeBridge's JavaScript side: twice(x) calls the host's shout and repeats it;
// fail() throws the prelude's SpellError.
(function (o, methods, vm) {
  "use strict";
  const shout = o.shout;
  o.twice = async (x) => { const s = await shout(x); return s + s; };
  o.ids = () => Object.keys(methods).join(",");
  o.fail = () => { throw new vm.SpellError("invalid_argument", "probe.fail: on purpose"); };
  return o;
})
