# The Gondara CDAE in Debian's PyTorch (python3-torch), loaded from our safetensors, for the `pytorch`
# benchmark: `infer` times batches (and writes the output of a given input for a parity check), `train`
# times Adam steps. Prints one JSON object. Run with /usr/bin/python3.
import json, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', info['dtype']
        a, b = info['data_offsets']
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype='<f4').reshape(info['shape']).copy())
    return tensors

class Cdae(nn.Module):
    # Same layers and state-dict names as Pipeline.Denoising.Training.Networks.Cdae.
    def __init__(self, channels=1, width=64, sigmoid=False):
        super().__init__()
        self.enc1 = nn.Conv2d(channels, width, 3, padding=1)
        self.enc2 = nn.Conv2d(width, width, 3, padding=1)
        self.dec1 = nn.Conv2d(width, width, 3, padding=1)
        self.dec2 = nn.Conv2d(width, width, 3, padding=1)
        self.output = nn.Conv2d(width, 1, 3, padding=1)
        self.sigmoid = sigmoid

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.enc1(x)), 2)
        x = F.max_pool2d(F.relu(self.enc2(x)), 2)
        x = F.interpolate(F.relu(self.dec1(x)), scale_factor=2, mode='nearest')
        x = F.interpolate(F.relu(self.dec2(x)), scale_factor=2, mode='nearest')
        x = self.output(x)
        return torch.sigmoid(x) if self.sigmoid else x

def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(args['threads'])
    net = Cdae(sigmoid=args['sigmoid'])
    net.load_state_dict(load_safetensors(args['weights']), strict=True)
    seconds = args['seconds']
    result = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if args['mode'] == 'infer':
        b, s = args['batch'], args['size']
        net.eval()
        x = torch.from_numpy(np.fromfile(args['input'], dtype='<f4').reshape(b, 1, s, s))
        with torch.no_grad():
            y = net(x)
            y.numpy().astype('<f4').tofile(args['output'])
            start = time.perf_counter(); n = 0
            while time.perf_counter() - start < seconds:
                net(x); n += b
            result['slices_per_s'] = n / (time.perf_counter() - start)
    else:
        b, p = args['batch'], args['size']
        g = torch.Generator().manual_seed(1)
        x = torch.rand(b, 1, p, p, generator=g); t = torch.rand(b, 1, p, p, generator=g)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        net.train()
        def step():
            opt.zero_grad(); loss = F.mse_loss(net(x), t); loss.backward(); opt.step()
        step()
        start = time.perf_counter(); n = 0
        while time.perf_counter() - start < seconds:
            step(); n += 1
        result['steps_per_s'] = n / (time.perf_counter() - start)
    print(json.dumps(result))

main()
