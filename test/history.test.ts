import test from 'ava';
import { instructionKey, instructionText, stepOf } from '../src/image/history.js';

test('build steps are told apart by their history entry', (t) => {
  t.is(stepOf('/bin/sh -c #(nop) COPY file:abc in /x '), 'copy');
  t.is(stepOf('ADD app.tar /srv # buildkit'), 'copy');
  t.is(stepOf('/bin/sh -c apt-get update'), 'run');
  t.is(stepOf('RUN /bin/sh -c make # buildkit'), 'run');
  t.is(stepOf('|2 A=1 B=2 /bin/sh -c make'), 'run');
  t.is(stepOf('/bin/sh -c #(nop)  ENV A=1'), 'other');
  t.is(stepOf('sh -c mkdir -p /x'), 'other'); // docker commit
  t.is(stepOf('/bin/sh'), 'other'); // buildah commit
  t.is(stepOf(undefined), 'other');
});

test('the Dockerfile-like text of each builder shape', (t) => {
  t.is(instructionText('/bin/sh -c #(nop)  CMD ["sh"] '), 'CMD ["sh"]');
  t.is(instructionText('/bin/sh -c apt-get update &&   rm -rf /var/lib/apt'), 'RUN apt-get update &&   rm -rf /var/lib/apt');
  t.is(instructionText('|2 A=1 B=2 /bin/sh -c make   all'), 'RUN make all');
  t.is(instructionText('COPY . /app # buildkit'), 'COPY . /app # buildkit');
  t.is(instructionText('sh -c  mkdir -p /x'), 'sh -c mkdir -p /x');
  t.is(instructionText(undefined, 'imported'), '(imported)');
  t.is(instructionText(undefined), '');
});

test('the matching key is the same step across builders and rebuilds', (t) => {
  t.is(instructionKey('/bin/sh -c #(nop)  CMD ["x"]'), 'CMD ["x"]');
  t.is(instructionKey('|2 A=1 B=2 /bin/sh -c make  all'), 'RUN make all');
  t.is(instructionKey('sh -c make'), 'RUN make');
  t.is(instructionKey('/bin/sh -c #(nop) COPY file:0123456789abcdef0123 in /x'), 'COPY file:… in /x');
  t.is(instructionKey(instructionText('/bin/sh -c   make')), instructionKey('/bin/sh -c make'));
  t.is(instructionKey(undefined), '');
});
